// Entry point of the dashboard: routing through the URL fragment
// (#host=NAME&range=1h) and the refresh loop that keeps every panel current.

import "uplot/dist/uPlot.min.css";
import "./style.css";

import { AlertPanel, alertsFromResponse } from "./alerts.js";
import { ApiError, fetchAlerts, fetchHosts, isPageError, SignedOutError } from "./api.js";
import { HostCharts } from "./charts.js";
import { el, setText } from "./dom.js";
import { formatAge, formatClock, formatDateTime } from "./format.js";
import { HostList, hostsFromResponse } from "./hosts.js";
import { LogPanel } from "./logs.js";
import { findRange, queryWindow, RANGES } from "./ranges.js";

// Seconds between refreshes unless the page URL sets ?refresh=SECONDS
// (bounded to 0.2–3600; tests use a short one).
const DEFAULT_REFRESH_SECONDS = 5;

function refreshSeconds() {
  const value = Number(new URLSearchParams(window.location.search).get("refresh"));
  if (!Number.isFinite(value) || value <= 0) {
    return DEFAULT_REFRESH_SECONDS;
  }
  return Math.min(Math.max(value, 0.2), 3600);
}

const REFRESH_MS = refreshSeconds() * 1000;
const PAGE_LOADED = new Date();

const state = {
  host: null,
  range: findRange(null),
  lastSuccess: null,
  staleSince: null,
};

const $ = (id) => document.getElementById(id);

const hostList = new HostList($("host-list"), $("host-count"), selectHost);
const alertPanel = new AlertPanel($("alert-list"), $("alert-count"), selectHost);
const charts = new HostCharts($("charts"));
const logs = new LogPanel($("logs"));
charts.onChange = () => scheduler.now();

// --- routing ---------------------------------------------------------------

function readRoute() {
  const params = new URLSearchParams(window.location.hash.slice(1));
  return { host: params.get("host") || null, range: findRange(params.get("range")) };
}

function routeHash(host, range) {
  const params = new URLSearchParams();
  if (host) {
    params.set("host", host);
  }
  params.set("range", range.id);
  return "#" + params.toString();
}

function selectHost(name) {
  window.location.hash = routeHash(name, state.range);
  if (window.matchMedia("(max-width: 760px)").matches) {
    $("host-view").scrollIntoView({ block: "start" });
  }
}

function selectRange(range) {
  window.location.hash = routeHash(state.host, range);
}

// applyRoute shows what the URL fragment names and refreshes at once.
function applyRoute() {
  const route = readRoute();
  state.host = route.host;
  state.range = route.range;

  hostList.setSelected(state.host);
  charts.setHost(state.host);
  logs.setView(state.host, queryWindow(state.range, Date.now()).from);
  renderHostHeader();
  renderRangePicker();
  scheduler.now();
}

// --- rendering of the host header and range picker --------------------------

function buildRangePicker() {
  const buttons = RANGES.map((range) =>
    el("button", { type: "button", class: "range-button", dataset: { range: range.id }, "aria-pressed": "false", onclick: () => selectRange(range), text: range.label }),
  );
  $("range-picker").replaceChildren(...buttons);
}

function renderRangePicker() {
  for (const button of $("range-picker").querySelectorAll("button")) {
    button.setAttribute("aria-pressed", String(button.dataset.range === state.range.id));
  }
}

function renderHostHeader() {
  const selected = state.host !== null;
  $("host-view").classList.toggle("no-host", !selected);
  $("host-hint").hidden = selected;
  $("charts").hidden = !selected;
  $("logs").hidden = !selected;
  setText($("host-title"), selected ? state.host : "Select a host");
  document.title = selected ? state.host + " · MiniObserv" : "MiniObserv";

  const status = $("host-status");
  const seen = $("host-seen");
  const host = selected ? hostList.find(state.host) : undefined;
  if (!selected) {
    status.hidden = true;
    seen.hidden = true;
    return;
  }

  const name = host ? host.status : "unknown";
  status.hidden = false;
  status.className = "status status-" + name;
  setText(status, name);
  seen.hidden = false;
  setText(seen, host && host.lastSeen ? "last seen " + formatAge(host.lastSeen, new Date()) + " (" + formatDateTime(host.lastSeen) + ")" : "never seen");
}

// --- refresh loop ------------------------------------------------------------

async function refreshHosts() {
  try {
    hostList.update(hostsFromResponse(await fetchHosts()), new Date());
    setText($("host-error"), "");
  } catch (err) {
    if (err instanceof ApiError && !err.retryable) {
      setText($("host-error"), "Could not list hosts: " + err.message);
      return;
    }
    throw err;
  }
}

async function refreshAlerts() {
  try {
    alertPanel.update(alertsFromResponse(await fetchAlerts()));
  } catch (err) {
    if (err instanceof ApiError && !err.retryable) {
      $("alert-list").replaceChildren(el("li", { class: "alert-empty", text: "Could not list alerts: " + err.message }));
      return;
    }
    throw err;
  }
}

// cycle refreshes every panel once: hosts first, because the charts need
// the host's collection interval, then the rest together.
async function cycle() {
  const nowMs = Date.now();
  const failures = [];
  const collect = (results) => results.filter((r) => r.status === "rejected").forEach((r) => failures.push(r.reason));

  collect(await Promise.allSettled([refreshHosts()]));
  renderHostHeader();

  const tasks = [refreshAlerts()];
  if (state.host !== null) {
    const host = hostList.find(state.host);
    logs.setFrom(queryWindow(state.range, nowMs).from);
    tasks.push(charts.refresh({ range: state.range, intervalSeconds: host ? host.intervalSeconds : 0, nowMs }));
    tasks.push(logs.refresh());
  }
  collect(await Promise.allSettled(tasks));

  if (failures.some((err) => err instanceof SignedOutError)) {
    return;
  }
  if (failures.length > 0) {
    markStale(failures[0]);
  } else {
    markFresh(new Date());
  }
}

function markFresh(now) {
  state.lastSuccess = now;
  state.staleSince = null;
  $("stale-banner").hidden = true;
  setText($("updated"), "Updated " + formatClock(now));
}

// markStale shows since when the data on screen has not been updated: the
// last successful refresh, or the page load when none has succeeded.
function markStale(err) {
  if (!isPageError(err)) {
    console.error("dashboard refresh failed", err);
  }
  if (state.staleSince !== null) {
    return;
  }

  // The text is set once per outage: the banner is an alert region, and
  // screen readers would announce every change.
  state.staleSince = state.lastSuccess || PAGE_LOADED;
  setText($("stale-since"), "Stale since " + formatClock(state.staleSince) + ".");
  setText($("stale-detail"), "A refresh failed (" + (err && err.message ? err.message : String(err)) + "). Retrying every " + REFRESH_MS / 1000 + " s.");
  $("stale-banner").hidden = false;
}

// scheduler runs one cycle at a time, REFRESH_MS after the previous one
// ended, whatever the outcome. now() runs a cycle at once, or right after
// the running one.
const scheduler = {
  timer: null,
  running: false,
  pending: false,

  now() {
    if (this.running) {
      this.pending = true;
      return;
    }
    clearTimeout(this.timer);
    this.run();
  },

  async run() {
    this.running = true;
    try {
      await cycle();
    } catch (err) {
      markStale(err);
    } finally {
      this.running = false;
      if (this.pending) {
        this.pending = false;
        this.run();
      } else {
        this.timer = setTimeout(() => this.run(), REFRESH_MS);
      }
    }
  },
};

buildRangePicker();
window.addEventListener("hashchange", applyRoute);
applyRoute();
