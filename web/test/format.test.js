import assert from "node:assert/strict";
import { test } from "node:test";

import { formatAge, formatBytes, formatPercent, formatRate, formatValue, parseTime, sortHosts } from "../src/format.js";

test("formatBytes uses binary prefixes and three significant digits", () => {
  const cases = [
    [0, "0 B"],
    [512, "512 B"],
    [1023, "1023 B"],
    [1024, "1.00 KiB"],
    [1536, "1.50 KiB"],
    [12.3 * 1024 * 1024, "12.3 MiB"],
    [931 * 1024 ** 3, "931 GiB"],
    [8 * 1024 ** 3, "8.00 GiB"],
    [1023.9 * 1024, "1.00 MiB"],
    [2.5 * 1024 ** 4, "2.50 TiB"],
    [-2048, "-2.00 KiB"],
  ];
  for (const [value, want] of cases) {
    assert.equal(formatBytes(value), want, "formatBytes(" + value + ")");
  }
});

test("formatBytes writes a dash for missing values", () => {
  for (const value of [null, undefined, NaN, Infinity]) {
    assert.equal(formatBytes(value), "–");
  }
});

test("formatRate and formatPercent", () => {
  assert.equal(formatRate(1.25 * 1024 * 1024), "1.25 MiB/s");
  assert.equal(formatRate(null), "–");
  assert.equal(formatPercent(42.46), "42.5%");
  assert.equal(formatPercent(0), "0.0%");
  assert.equal(formatPercent(100), "100.0%");
  assert.equal(formatValue("bytes_per_second", 2048), "2.00 KiB/s");
  assert.equal(formatValue("percent", 5), "5.0%");
});

test("formatAge counts back from now", () => {
  const now = new Date("2026-01-01T12:00:00Z");
  const ago = (seconds) => formatAge(new Date(now.getTime() - seconds * 1000), now);
  assert.equal(ago(0), "just now");
  assert.equal(ago(-5), "just now");
  assert.equal(ago(8), "8s ago");
  assert.equal(ago(600), "10m ago");
  assert.equal(ago(7200), "2h ago");
  assert.equal(ago(5 * 86400), "5d ago");
});

test("parseTime rejects missing and invalid times", () => {
  assert.equal(parseTime(null), null);
  assert.equal(parseTime(""), null);
  assert.equal(parseTime("yesterday"), null);
  assert.equal(parseTime("0001-01-01T00:00:00Z"), null);
  assert.equal(parseTime("2026-01-01T12:00:00Z").toISOString(), "2026-01-01T12:00:00.000Z");
});

test("sortHosts puts down, stale, unknown, ok first, then names", () => {
  const hosts = [
    { host: "b", status: "ok" },
    { host: "a", status: "ok" },
    { host: "z", status: "down" },
    { host: "m", status: "stale" },
    { host: "c", status: "weird" },
    { host: "d", status: "unknown" },
    { host: "y", status: "down" },
  ];
  assert.deepEqual(
    sortHosts(hosts).map((h) => h.host),
    ["y", "z", "m", "c", "d", "a", "b"],
  );
});
