// Builds the dashboard into ../server/dashboard/assets, which the Go
// package embeds: app-<hash>.js and app-<hash>.css (content-hashed names,
// so the server may cache them for a year), index.html pointing at them,
// and the stand-alone login.html.
//
// Usage: npm --prefix web ci && npm --prefix web run build

import { readdir, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const webDir = dirname(fileURLToPath(import.meta.url));
const srcDir = join(webDir, "src");
const outDir = join(webDir, "..", "server", "dashboard", "assets");

// Files this script owns in outDir; anything else there is left alone.
const OWNED = /^(app-[A-Za-z0-9]+\.(js|css)|index\.html|login\.html)$/;

async function cleanOutput() {
  await mkdir(outDir, { recursive: true });
  for (const name of await readdir(outDir)) {
    if (OWNED.test(name)) {
      await rm(join(outDir, name));
    }
  }
}

// uPlot's copyright notice is a plain block comment that minification
// drops, so the bundle carries it as a banner, as uPlot's MIT licence
// requires.
async function licenceBanner() {
  const pkg = JSON.parse(await readFile(join(webDir, "node_modules", "uplot", "package.json"), "utf8"));
  return `/*! Includes uPlot ${pkg.version}, Copyright (c) 2025 Leon Sorokin, MIT License, https://github.com/leeoniya/uPlot */`;
}

async function bundle() {
  const banner = await licenceBanner();
  const result = await esbuild.build({
    entryPoints: { app: join(srcDir, "main.js") },
    bundle: true,
    minify: true,
    format: "iife",
    target: ["es2020", "chrome100", "firefox100", "safari15"],
    charset: "utf8",
    legalComments: "eof",
    banner: { js: banner, css: banner },
    entryNames: "[name]-[hash]",
    outdir: outDir,
    metafile: true,
    logLevel: "warning",
  });

  const outputs = Object.keys(result.metafile.outputs).map((path) => basename(path));
  const js = outputs.find((name) => name.endsWith(".js"));
  const css = outputs.find((name) => name.endsWith(".css"));
  if (!js || !css) {
    throw new Error("esbuild produced " + outputs.join(", ") + ": expected one .js and one .css file");
  }
  return { js, css, outputs };
}

async function writePages({ js, css }) {
  const template = await readFile(join(srcDir, "index.html"), "utf8");
  const index = template.replace("{{APP_JS}}", js).replace("{{APP_CSS}}", css);
  if (index.includes("{{")) {
    throw new Error("src/index.html has a placeholder this script does not fill");
  }
  await writeFile(join(outDir, "index.html"), index);
  await writeFile(join(outDir, "login.html"), await readFile(join(srcDir, "login.html"), "utf8"));
}

async function main() {
  await cleanOutput();
  const built = await bundle();
  await writePages(built);

  for (const name of [...built.outputs, "index.html", "login.html"]) {
    const size = (await readFile(join(outDir, name))).length;
    console.log(`${name.padEnd(24)} ${String(size).padStart(7)} bytes`);
  }
}

main().catch((err) => {
  console.error("build failed:", err.message);
  process.exit(1);
});
