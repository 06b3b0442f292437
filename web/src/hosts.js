// The sidebar: every host with its status and when it was last seen.

import { el, setText } from "./dom.js";
import { formatAge, formatDateTime, normalizeStatus, parseTime, sortHosts } from "./format.js";

// hostsFromResponse reads a /api/v1/hosts response into {host, status,
// lastSeen (Date or null), intervalSeconds} records, dropping entries
// without a host name. interval_seconds is optional in the response.
export function hostsFromResponse(body) {
  const list = body && Array.isArray(body.hosts) ? body.hosts : [];
  return list
    .filter((h) => h && typeof h.host === "string" && h.host !== "")
    .map((h) => ({
      host: h.host,
      status: normalizeStatus(h.status),
      lastSeen: parseTime(h.last_seen),
      intervalSeconds: typeof h.interval_seconds === "number" ? h.interval_seconds : 0,
    }));
}

// HostList renders the sidebar. Rows are kept per host and moved rather
// than rebuilt, so keyboard focus stays on the host it was on.
export class HostList {
  constructor(listElement, countElement, onSelect) {
    this.list = listElement;
    this.count = countElement;
    this.onSelect = onSelect;
    this.rows = new Map();
    this.selected = null;
    this.hosts = [];
  }

  // update shows hosts in status-then-name order.
  update(hosts, now) {
    this.hosts = sortHosts(hosts);
    setText(this.count, String(this.hosts.length));

    const seen = new Set();
    this.hosts.forEach((host, position) => {
      seen.add(host.host);
      const row = this.rowFor(host.host);
      fillRow(row, host, now, host.host === this.selected);
      if (this.list.children[position] !== row.item) {
        this.list.insertBefore(row.item, this.list.children[position] || null);
      }
    });

    for (const [name, row] of this.rows) {
      if (!seen.has(name)) {
        row.item.remove();
        this.rows.delete(name);
      }
    }

    if (this.hosts.length === 0) {
      this.list.replaceChildren(el("li", { class: "host-empty", text: "No host has reported yet." }));
      this.rows.clear();
    } else {
      const empty = this.list.querySelector(".host-empty");
      if (empty) {
        empty.remove();
      }
    }
  }

  // find returns the record of a host, or undefined.
  find(name) {
    return this.hosts.find((h) => h.host === name);
  }

  setSelected(name) {
    this.selected = name;
    for (const [host, row] of this.rows) {
      if (host === name) {
        row.button.setAttribute("aria-current", "page");
      } else {
        row.button.removeAttribute("aria-current");
      }
    }
  }

  rowFor(name) {
    let row = this.rows.get(name);
    if (row) {
      return row;
    }

    const status = el("span", { class: "status" });
    const title = el("span", { class: "host-name", text: name });
    const seen = el("span", { class: "last-seen" });
    const button = el("button", { type: "button", class: "host-button", dataset: { host: name }, onclick: () => this.onSelect(name) }, title, status, seen);
    const item = el("li", { class: "host-item" }, button);
    row = { item, button, status, seen };
    this.rows.set(name, row);
    return row;
  }
}

function fillRow(row, host, now, selected) {
  row.item.dataset.status = host.status;
  row.status.className = "status status-" + host.status;
  setText(row.status, host.status);

  if (host.lastSeen) {
    setText(row.seen, "last seen " + formatAge(host.lastSeen, now));
    row.seen.title = formatDateTime(host.lastSeen);
  } else {
    setText(row.seen, "never seen");
    row.seen.removeAttribute("title");
  }

  if (selected) {
    row.button.setAttribute("aria-current", "page");
  } else {
    row.button.removeAttribute("aria-current");
  }
}
