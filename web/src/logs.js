// The host's log stream: newest first, filtered by level and a search text,
// with older pages loaded through the API's cursor.

import { fetchLogs, isPageError } from "./api.js";
import { el, setText } from "./dom.js";
import { formatDateTime, parseTime } from "./format.js";

export const LOG_PAGE_SIZE = 50;

const SEARCH_DELAY_MS = 300;

// entriesFromResponse reads a /api/v1/logs/query response.
export function entriesFromResponse(body) {
  const list = body && Array.isArray(body.entries) ? body.entries : [];
  const entries = list
    .filter((e) => e && typeof e === "object")
    .map((e) => ({
      id: String(e.id ?? e.time + "|" + e.path + "|" + e.message),
      time: parseTime(e.time),
      level: typeof e.level === "string" ? e.level : "",
      path: typeof e.path === "string" ? e.path : "",
      message: typeof e.message === "string" ? e.message : "",
    }));
  const nextCursor = body && typeof body.next_cursor === "string" && body.next_cursor !== "" ? body.next_cursor : null;
  return { entries, nextCursor };
}

// mergeNewest puts the entries of a fresh first page in front of the ones
// shown. When the fresh page shares no entry with them and has more pages
// after it, entries were missed in between, so the fresh page replaces the
// list (and its cursor becomes the list's cursor).
export function mergeNewest(shown, shownCursor, page) {
  const shownIds = new Set(shown.map((e) => e.id));
  const overlap = page.entries.some((e) => shownIds.has(e.id));
  if (shown.length > 0 && !overlap && page.nextCursor !== null) {
    return { entries: page.entries, nextCursor: page.nextCursor };
  }
  const fresh = page.entries.filter((e) => !shownIds.has(e.id));
  if (shown.length === 0) {
    return { entries: fresh, nextCursor: page.nextCursor };
  }
  return { entries: [...fresh, ...shown], nextCursor: shownCursor };
}

// LogPanel owns the log controls and table of the host being shown.
export class LogPanel {
  constructor(root) {
    this.host = null;
    this.fromMs = null;
    this.entries = [];
    this.nextCursor = null;
    this.loaded = false;
    this.generation = 0;
    this.searchTimer = null;

    this.level = root.querySelector("#log-level");
    this.search = root.querySelector("#log-search");
    this.form = root.querySelector("#log-filters");
    this.body = root.querySelector("#log-entries");
    this.more = root.querySelector("#log-more");
    this.status = root.querySelector("#log-status");

    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.restart();
    });
    this.level.addEventListener("change", () => this.restart());
    this.search.addEventListener("input", () => {
      clearTimeout(this.searchTimer);
      this.searchTimer = setTimeout(() => this.restart(), SEARCH_DELAY_MS);
    });
    this.more.addEventListener("click", () => this.loadOlder());
  }

  // setView switches host or time range; fromMs is the start of the range.
  setView(host, fromMs) {
    if (host === this.host && fromMs === this.fromMs) {
      return;
    }
    const hostChanged = host !== this.host;
    this.host = host;
    this.fromMs = fromMs;
    if (hostChanged) {
      this.search.value = "";
      this.level.value = "";
    }
    this.clear();
  }

  // setFrom moves the start of the window as time passes, without
  // clearing what is shown.
  setFrom(fromMs) {
    this.fromMs = fromMs;
  }

  clear() {
    this.generation++;
    this.entries = [];
    this.nextCursor = null;
    this.loaded = false;
    this.render();
  }

  query(cursor) {
    return {
      host: this.host,
      level: this.level.value,
      q: this.search.value.trim(),
      from: this.fromMs,
      limit: LOG_PAGE_SIZE,
      cursor,
    };
  }

  // restart reloads the first page after a filter change.
  async restart() {
    clearTimeout(this.searchTimer);
    this.clear();
    try {
      await this.refresh();
    } catch (err) {
      this.showError(err);
    }
  }

  // refresh fetches the newest page and merges it in front of the list.
  // Page-level errors are thrown for the caller to show; other errors are
  // shown in the panel.
  async refresh() {
    if (this.host === null) {
      return;
    }
    const generation = this.generation;
    let page;
    try {
      page = entriesFromResponse(await fetchLogs(this.query(undefined)));
    } catch (err) {
      if (isPageError(err)) {
        throw err;
      }
      this.showError(err);
      return;
    }
    if (generation !== this.generation) {
      return;
    }

    const merged = mergeNewest(this.entries, this.nextCursor, page);
    this.entries = merged.entries;
    this.nextCursor = merged.nextCursor;
    this.loaded = true;
    this.render();
  }

  // loadOlder appends the page after the last one shown.
  async loadOlder() {
    if (this.nextCursor === null) {
      return;
    }
    const generation = this.generation;
    this.more.disabled = true;
    try {
      const page = entriesFromResponse(await fetchLogs(this.query(this.nextCursor)));
      if (generation !== this.generation) {
        return;
      }
      const shownIds = new Set(this.entries.map((e) => e.id));
      this.entries = [...this.entries, ...page.entries.filter((e) => !shownIds.has(e.id))];
      this.nextCursor = page.nextCursor;
      this.render();
    } catch (err) {
      this.showError(err);
    } finally {
      this.more.disabled = false;
    }
  }

  showError(err) {
    if (err && err.name === "SignedOutError") {
      return;
    }
    setText(this.status, "Could not load log entries: " + (err && err.message ? err.message : String(err)));
  }

  render() {
    const rows = this.entries.map((entry) =>
      el(
        "tr",
        { class: "log-row log-" + entry.level, dataset: { id: entry.id } },
        el("td", { class: "log-time" }, entry.time ? el("time", { datetime: entry.time.toISOString(), text: formatDateTime(entry.time) }) : ""),
        el("td", { class: "log-level" }, el("span", { class: "level level-" + entry.level, text: entry.level })),
        el("td", { class: "log-path", text: entry.path }),
        el("td", { class: "log-message", text: entry.message }),
      ),
    );
    this.body.replaceChildren(...rows);
    this.more.hidden = this.nextCursor === null;

    const filtered = this.level.value !== "" || this.search.value.trim() !== "";
    if (!this.loaded) {
      setText(this.status, "Loading…");
    } else if (this.entries.length === 0) {
      setText(this.status, filtered ? "No log entry matches these filters." : "No log entries in this range.");
    } else {
      setText(this.status, this.entries.length + (this.entries.length === 1 ? " entry" : " entries") + " shown, newest first.");
    }
  }
}
