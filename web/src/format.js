// Value, time and status formatting shared by every panel. Numbers use
// toFixed rather than the viewer's locale so that the text is the same on
// every machine; times use the viewer's time zone.

const BINARY_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

// Number of decimals for a value already scaled to its unit: three
// significant digits down to 1, whole numbers from 100 up.
function decimalsFor(abs) {
  if (abs >= 100) {
    return 0;
  }
  if (abs >= 10) {
    return 1;
  }
  return 2;
}

// formatBytes writes a byte count with binary prefixes: 512 B, 1.50 KiB,
// 12.3 MiB, 931 GiB. Counts below 1024 are whole bytes.
export function formatBytes(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) {
    return "–";
  }
  const sign = value < 0 ? "-" : "";
  let abs = Math.abs(value);
  if (abs < 1024) {
    return sign + abs.toFixed(0) + " B";
  }

  let unit = 0;
  while (abs >= 1024 && unit < BINARY_UNITS.length - 1) {
    abs /= 1024;
    unit++;
  }

  let text = abs.toFixed(decimalsFor(abs));
  // 1023.7 KiB rounds to "1024"; write it as the next unit instead.
  if (Number(text) >= 1024 && unit < BINARY_UNITS.length - 1) {
    abs /= 1024;
    unit++;
    text = abs.toFixed(decimalsFor(abs));
  }
  return sign + text + " " + BINARY_UNITS[unit];
}

// formatRate writes bytes per second with binary prefixes: 1.25 MiB/s.
export function formatRate(value) {
  const text = formatBytes(value);
  return text === "–" ? text : text + "/s";
}

// formatPercent writes a percentage with one decimal: 42.5%.
export function formatPercent(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) {
    return "–";
  }
  return value.toFixed(1) + "%";
}

// Formatters by unit name, as used by the chart definitions.
export const UNIT_FORMATTERS = {
  percent: formatPercent,
  bytes: formatBytes,
  bytes_per_second: formatRate,
};

// formatValue formats value in the given unit ("percent", "bytes",
// "bytes_per_second"); an unknown unit falls back to a plain number.
export function formatValue(unit, value) {
  const format = UNIT_FORMATTERS[unit];
  if (format) {
    return format(value);
  }
  if (value === null || value === undefined || !Number.isFinite(value)) {
    return "–";
  }
  return String(value);
}

// Unit of each allowlisted metric as stored; net.* values are byte deltas.
const METRIC_UNITS = {
  "cpu.usage_pct": "percent",
  "mem.used_pct": "percent",
  "disk.used_pct": "percent",
  "mem.used_bytes": "bytes",
  "mem.total_bytes": "bytes",
  "disk.used_bytes": "bytes",
  "disk.total_bytes": "bytes",
  "net.bytes_in": "bytes",
  "net.bytes_out": "bytes",
};

// unitOfMetric returns the unit a stored value of the metric has.
export function unitOfMetric(name) {
  return METRIC_UNITS[name] || "number";
}

function pad2(n) {
  return String(n).padStart(2, "0");
}

// formatClock writes HH:MM:SS in the viewer's time zone.
export function formatClock(date) {
  return pad2(date.getHours()) + ":" + pad2(date.getMinutes()) + ":" + pad2(date.getSeconds());
}

// formatHourMinute writes HH:MM in the viewer's time zone.
export function formatHourMinute(date) {
  return pad2(date.getHours()) + ":" + pad2(date.getMinutes());
}

// formatDay writes YYYY-MM-DD in the viewer's time zone.
export function formatDay(date) {
  return date.getFullYear() + "-" + pad2(date.getMonth() + 1) + "-" + pad2(date.getDate());
}

// formatDateTime writes "YYYY-MM-DD HH:MM:SS" in the viewer's time zone.
export function formatDateTime(date) {
  return formatDay(date) + " " + formatClock(date);
}

// formatAge writes how long ago then was, relative to now: "8s ago",
// "3m ago", "2h ago", "5d ago". A time in the future reads "just now".
export function formatAge(then, now) {
  const seconds = Math.floor((now.getTime() - then.getTime()) / 1000);
  if (seconds < 1) {
    return "just now";
  }
  if (seconds < 60) {
    return seconds + "s ago";
  }
  if (seconds < 3600) {
    return Math.floor(seconds / 60) + "m ago";
  }
  if (seconds < 86400) {
    return Math.floor(seconds / 3600) + "h ago";
  }
  return Math.floor(seconds / 86400) + "d ago";
}

// parseTime turns an RFC 3339 string into a Date, or null when the value is
// missing, empty or not a time (a host never seen has no last_seen).
export function parseTime(value) {
  if (typeof value !== "string" || value === "") {
    return null;
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime()) || date.getTime() <= 0) {
    return null;
  }
  return date;
}

// Sidebar order of host statuses: the ones needing attention first.
export const STATUS_ORDER = ["down", "stale", "unknown", "ok"];

// statusRank returns the sort rank of a status; anything unrecognised sorts
// with "unknown".
export function statusRank(status) {
  const rank = STATUS_ORDER.indexOf(status);
  return rank === -1 ? STATUS_ORDER.indexOf("unknown") : rank;
}

// normalizeStatus maps a status from the API to one of STATUS_ORDER.
export function normalizeStatus(status) {
  return STATUS_ORDER.includes(status) ? status : "unknown";
}

// sortHosts returns a copy of hosts ordered by status (down, stale,
// unknown, ok), then by host name in code-point order.
export function sortHosts(hosts) {
  return [...hosts].sort((a, b) => {
    const byStatus = statusRank(a.status) - statusRank(b.status);
    if (byStatus !== 0) {
      return byStatus;
    }
    if (a.host < b.host) {
      return -1;
    }
    return a.host > b.host ? 1 : 0;
  });
}
