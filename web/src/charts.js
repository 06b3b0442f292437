// The host view's charts: one card per metric family, each with a breakdown
// selector, a uPlot chart, a hover/keyboard readout and a table of current
// values.

import uPlot from "uplot";
import { fetchMetric, fetchSeries, isPageError } from "./api.js";
import { el, setText } from "./dom.js";
import { formatDateTime, formatDay, formatHourMinute, formatValue } from "./format.js";
import { BUCKET_SECONDS, queryWindow } from "./ranges.js";
import {
  aggregationFor,
  alignSeries,
  compareLabelValues,
  labelSetsFromResponse,
  newestPoint,
  rateMode,
  seriesFromResponse,
  seriesLabel,
  toRate,
} from "./series.js";

// Chart definitions. labelKey is the label that breaks a metric down
// (group_by); seriesMetric is the metric whose /api/v1/series response lists
// the label values; lines are the metrics drawn together; rate marks byte
// deltas drawn as bytes per second.
export const CHARTS = [
  {
    id: "cpu",
    title: "CPU usage",
    unit: "percent",
    labelKey: "core",
    seriesMetric: "cpu.usage_pct",
    totalLabel: "All cores",
    groupLabel: "Per core",
    valuePrefix: "core ",
    lines: [{ metric: "cpu.usage_pct", name: "usage" }],
  },
  {
    id: "mem-pct",
    title: "Memory used",
    unit: "percent",
    lines: [{ metric: "mem.used_pct", name: "used" }],
  },
  {
    id: "mem-bytes",
    title: "Memory",
    unit: "bytes",
    lines: [
      { metric: "mem.used_bytes", name: "used" },
      { metric: "mem.total_bytes", name: "total" },
    ],
  },
  {
    id: "disk-pct",
    title: "Disk used",
    unit: "percent",
    labelKey: "mount",
    seriesMetric: "disk.used_pct",
    totalLabel: "/",
    groupLabel: "Per mount",
    valuePrefix: "",
    lines: [{ metric: "disk.used_pct", name: "used" }],
  },
  {
    id: "disk-bytes",
    title: "Disk space",
    unit: "bytes",
    labelKey: "mount",
    seriesMetric: "disk.used_bytes",
    totalLabel: "/",
    groupLabel: "Per mount",
    valuePrefix: "",
    lines: [
      { metric: "disk.used_bytes", name: "used" },
      { metric: "disk.total_bytes", name: "total" },
    ],
  },
  {
    id: "net",
    title: "Network",
    unit: "bytes_per_second",
    labelKey: "iface",
    seriesMetric: "net.bytes_in",
    totalLabel: "All interfaces",
    groupLabel: "Per interface",
    valuePrefix: "",
    lines: [
      { metric: "net.bytes_in", name: "in", rate: true },
      { metric: "net.bytes_out", name: "out", rate: true },
    ],
  },
];

// Breakdown selections: the host-level series, one series per label value
// (group_by), or one label value ("=" followed by the value).
const SELECT_TOTAL = "total";
const SELECT_GROUP = "group";
const SELECT_VALUE_PREFIX = "=";

// Label values are listed again every this many chart loads, so that a new
// mount or interface shows up in the selector.
const LABEL_REFRESH_EVERY = 12;

// Charts reload at most this many times per bucket length while nothing
// the user chose changes: every 5 s for 1m buckets, every 5 min for the
// 1h buckets of the 30-day range. A longer range's newest bucket changes
// little between two page refreshes, and each reload queries the whole
// range of every chart.
const LOADS_PER_BUCKET = 12;

const PLOT_HEIGHT = 180;

// Line colours; each has at least 3:1 contrast against the white plot area.
const PALETTE = ["#0550ae", "#cf222e", "#1a7f37", "#8250df", "#bc4c00", "#0a7e8c", "#bf3989", "#57606a", "#6f4e00", "#3d4ed8"];

// Axis ticks for byte units: powers of two times a power of 1024, so that
// the axis reads 256 MiB, 512 MiB, 768 MiB, 1 GiB.
const BYTE_INCREMENTS = (() => {
  const incrs = [];
  for (let power = 0; power <= 5; power++) {
    for (let multiple = 1; multiple <= 512; multiple *= 2) {
      incrs.push(multiple * 1024 ** power);
    }
  }
  return incrs;
})();

// formatAxis writes a tick label: the value's text without trailing zeros.
function formatAxis(unit, value) {
  if (unit === "percent") {
    return value.toFixed(0) + "%";
  }
  return formatValue(unit, value).replace(/\.0+(?=\s)|(\.\d*?)0+(?=\s)/, "$1");
}

// formatTimeTicks writes x-axis labels in the viewer's time zone with a
// 24-hour clock, like every other time on the page. A tick reads HH:MM,
// with the date (MM-DD) under the first tick of each day. Ticks a day or
// more apart read the date alone.
function formatTimeTicks(u, splits, axisIndex, space, increment) {
  let previousDay = null;
  return splits.map((seconds) => {
    const date = new Date(seconds * 1000);
    const day = formatDay(date).slice(5);
    if (increment >= 86400) {
      return day;
    }
    const label = day === previousDay ? formatHourMinute(date) : formatHourMinute(date) + "\n" + day;
    previousDay = day;
    return label;
  });
}

// indexesWithData returns the x indexes where at least one series has a
// value.
function indexesWithData(data) {
  const out = [];
  for (let i = 0; i < data[0].length; i++) {
    if (data.slice(1).some((ys) => ys[i] !== null && ys[i] !== undefined)) {
      out.push(i);
    }
  }
  return out;
}

// swatch is the colour key of a legend row. The colour is set through the
// style property because a Content-Security-Policy without 'unsafe-inline'
// blocks style attributes.
function swatch(colour) {
  const node = el("span", { class: "swatch", "aria-hidden": "true" });
  node.style.backgroundColor = colour;
  return node;
}

// HostCharts owns the chart cards of the host being shown.
export class HostCharts {
  constructor(root) {
    this.root = root;
    this.cards = CHARTS.map((def) => new ChartCard(def, () => this.onSelectionChange()));
    this.host = null;
    this.generation = 0;
    this.refreshCount = 0;
    this.labelValues = new Map();
    this.onChange = null;
    this.loadedKey = "";
    this.loadedAt = 0;

    root.replaceChildren(...this.cards.map((card) => card.element));
  }

  // setHost switches to another host: selections go back to their defaults
  // and label values are listed again.
  setHost(host) {
    if (host === this.host) {
      return;
    }
    this.host = host;
    this.generation++;
    this.refreshCount = 0;
    this.labelValues = new Map();
    for (const card of this.cards) {
      card.reset();
    }
  }

  onSelectionChange() {
    this.generation++;
    if (this.onChange) {
      this.onChange();
    }
  }

  // refresh loads every chart for the current host over range, ending now,
  // unless the same view loaded less than a bucket ÷ LOADS_PER_BUCKET ago.
  // Page-level failures are thrown once all charts have settled; other
  // failures show in the chart they belong to.
  async refresh({ range, intervalSeconds, nowMs }) {
    if (this.host === null) {
      return;
    }
    const generation = this.generation;
    const host = this.host;
    const key = generation + "|" + range.id + "|" + intervalSeconds;
    const minGapMs = (BUCKET_SECONDS[range.bucket] * 1000) / LOADS_PER_BUCKET;
    if (key === this.loadedKey && nowMs - this.loadedAt < minGapMs) {
      return;
    }

    if (this.refreshCount % LABEL_REFRESH_EVERY === 0) {
      await this.loadLabelValues(host, generation);
    }
    this.refreshCount++;

    const window = queryWindow(range, nowMs);
    const results = await Promise.allSettled(
      this.cards.map((card) => this.refreshCard(card, { host, window, intervalSeconds, generation, range })),
    );
    const failure = results.find((r) => r.status === "rejected");
    if (failure) {
      throw failure.reason;
    }
    this.loadedKey = key;
    this.loadedAt = nowMs;
  }

  async refreshCard(card, { host, window, intervalSeconds, generation, range }) {
    try {
      const series = await loadChartSeries(card.def, card.selection, { host, window, intervalSeconds });
      if (generation === this.generation) {
        card.render(series, window, range);
      }
    } catch (err) {
      if (isPageError(err)) {
        throw err;
      }
      if (generation === this.generation) {
        card.showError(err.message);
      }
    }
  }

  // loadLabelValues lists the label values of each breakdown metric and
  // updates the selectors. An endpoint that fails for good leaves the
  // selectors with their host-level and per-value group choices only.
  async loadLabelValues(host, generation) {
    const metrics = [...new Set(CHARTS.filter((c) => c.seriesMetric).map((c) => c.seriesMetric))];
    const responses = await Promise.allSettled(metrics.map((name) => fetchSeries(host, name)));

    for (let i = 0; i < metrics.length; i++) {
      const response = responses[i];
      if (response.status === "rejected" && isPageError(response.reason)) {
        throw response.reason;
      }
      if (response.status === "fulfilled") {
        const def = CHARTS.find((c) => c.seriesMetric === metrics[i]);
        this.labelValues.set(metrics[i], labelSetsFromResponse(response.value, def.labelKey));
      }
    }

    if (generation !== this.generation) {
      return;
    }
    for (const card of this.cards) {
      if (card.def.seriesMetric && this.labelValues.has(card.def.seriesMetric)) {
        card.setLabelValues(this.labelValues.get(card.def.seriesMetric));
      }
    }
  }

  destroy() {
    for (const card of this.cards) {
      card.destroyPlot();
    }
  }
}

// loadChartSeries queries every line of a chart and returns its series as
// {label, points} with points oldest first, rates already converted.
export async function loadChartSeries(def, selection, { host, window, intervalSeconds }) {
  const perLine = await Promise.all(def.lines.map((line) => loadLine(def, line, selection, { host, window, intervalSeconds })));

  const series = [];
  for (let i = 0; i < def.lines.length; i++) {
    for (const group of perLine[i]) {
      series.push({ label: seriesLabel(def, def.lines[i], group.value), value: group.value || "", line: i, points: group.points });
    }
  }
  series.sort((a, b) => compareLabelValues(a.value, b.value) || a.line - b.line);
  return series;
}

async function loadLine(def, line, selection, { host, window, intervalSeconds }) {
  const mode = line.rate ? rateMode(intervalSeconds) : null;
  const query = {
    host,
    name: line.metric,
    from: window.from,
    to: window.to,
    bucket: window.bucket,
    agg: line.rate ? aggregationFor(mode) : "avg",
  };

  let filterValue = null;
  if (def.labelKey && selection === SELECT_GROUP) {
    query.groupBy = def.labelKey;
  } else if (def.labelKey && selection.startsWith(SELECT_VALUE_PREFIX)) {
    filterValue = selection.slice(SELECT_VALUE_PREFIX.length);
    query.filter = { key: def.labelKey, value: filterValue };
  }

  const body = await fetchMetric(query);
  const groups = seriesFromResponse(body, def.labelKey);
  return groups.map((g) => ({
    value: g.value === null ? filterValue : g.value,
    points: line.rate ? toRate(g.points, { mode, intervalSeconds, bucketMs: window.bucketMs, toMs: window.to }) : g.points,
  }));
}

// ChartCard is one chart's markup, selector, plot and legend.
class ChartCard {
  constructor(def, onSelectionChange) {
    this.def = def;
    this.onSelectionChange = onSelectionChange;
    this.plot = null;
    this.plotKey = "";
    this.resizeObserver = null;
    this.labelValues = [];

    const titleId = "chart-title-" + def.id;
    this.select = def.labelKey ? this.buildSelect() : null;
    this.plotElement = el("div", {
      class: "chart-plot",
      tabindex: "0",
      role: "img",
      "aria-label": def.title + " chart. Use the left and right arrow keys to read values.",
      onkeydown: (event) => this.onKey(event),
      onblur: () => this.hideCursor(),
    });
    this.readout = el("p", { class: "chart-readout", "aria-live": "polite" });
    this.message = el("p", { class: "chart-message", hidden: true });
    this.legendBody = el("tbody");
    this.legend = el(
      "table",
      { class: "chart-legend" },
      el("caption", { class: "visually-hidden", text: def.title + ": current values" }),
      el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Series" }), el("th", { scope: "col", text: "Current" }), el("th", { scope: "col", text: "At" }))),
      this.legendBody,
    );

    this.element = el(
      "section",
      { class: "chart-card", "aria-labelledby": titleId, dataset: { chart: def.id } },
      el("header", { class: "chart-header" }, el("h3", { id: titleId, text: def.title }), this.select ? el("label", { class: "chart-breakdown" }, "Breakdown ", this.select) : null),
      this.plotElement,
      this.readout,
      this.message,
      this.legend,
    );
    this.reset();
  }

  buildSelect() {
    return el("select", {
      class: "breakdown-select",
      onchange: () => this.onSelectionChange(),
    });
  }

  get selection() {
    return this.select ? this.select.value : SELECT_TOTAL;
  }

  // reset returns the selector to the host-level series with no listed
  // values, and clears the plot.
  reset() {
    this.labelValues = [];
    if (this.select) {
      this.fillSelect(true);
      this.select.value = SELECT_TOTAL;
    }
    this.destroyPlot();
    this.legendBody.replaceChildren();
    this.showMessage("Loading…");
    this.readout.textContent = "";
  }

  // setLabelValues offers each listed label value in the selector. A disk
  // chart whose host has no "/" mount loses the host-level choice (the
  // server rejects it) and shows every mount instead.
  setLabelValues(values) {
    if (values.join("\n") === this.labelValues.join("\n")) {
      return;
    }
    this.labelValues = values;
    const previous = this.select.value;
    const hasTotal = this.def.labelKey !== "mount" || values.length === 0 || values.includes("/");
    this.fillSelect(hasTotal);

    const stillOffered = [...this.select.options].some((o) => o.value === previous);
    if (stillOffered) {
      this.select.value = previous;
    } else {
      this.select.value = hasTotal ? SELECT_TOTAL : SELECT_GROUP;
    }
    if (this.select.value !== previous) {
      this.onSelectionChange();
    }
  }

  fillSelect(hasTotal) {
    const options = [];
    if (hasTotal) {
      options.push(el("option", { value: SELECT_TOTAL, text: this.def.totalLabel }));
    }
    options.push(el("option", { value: SELECT_GROUP, text: this.def.groupLabel }));
    for (const value of this.labelValues) {
      if (this.def.labelKey === "mount" && value === "/" && hasTotal) {
        continue;
      }
      options.push(el("option", { value: SELECT_VALUE_PREFIX + value, text: (this.def.valuePrefix || "") + value }));
    }
    this.select.replaceChildren(...options);
  }

  showMessage(text) {
    this.message.hidden = false;
    setText(this.message, text);
  }

  showError(text) {
    this.showMessage("Could not load this chart: " + text);
    this.element.classList.add("chart-failed");
  }

  // render draws the series and fills the current-value table. Current
  // value = the newest point of each series.
  render(series, window, range) {
    this.element.classList.remove("chart-failed");
    const hasPoints = series.some((s) => s.points.length > 0);
    if (hasPoints) {
      this.message.hidden = true;
    } else {
      this.showMessage("No data in the last " + range.label + ".");
    }

    const data = alignSeries(series, { fromMs: window.from, toMs: window.to, bucketMs: window.bucketMs });
    this.drawPlot(series.map((s) => s.label), data);
    this.fillLegend(series);
    this.plotElement.setAttribute("aria-label", this.def.title + " chart over the last " + range.label + ". Use the left and right arrow keys to read values.");
  }

  fillLegend(series) {
    const rows = series.map((s, i) => {
      const newest = newestPoint(s.points);
      return el(
        "tr",
        { class: "legend-row", dataset: { series: s.label } },
        el("th", { scope: "row" }, swatch(PALETTE[i % PALETTE.length]), s.label),
        el("td", { class: "current", text: newest ? formatValue(this.def.unit, newest.value) : "–" }),
        el("td", { class: "current-time" }, newest ? el("time", { datetime: new Date(newest.time).toISOString(), text: formatDateTime(new Date(newest.time)) }) : "no data"),
      );
    });
    this.legendBody.replaceChildren(...rows);
  }

  drawPlot(labels, data) {
    const key = labels.join("\n");
    if (this.plot && key === this.plotKey) {
      this.plot.setData(data);
      return;
    }

    this.destroyPlot();
    this.plotKey = key;
    this.plot = new uPlot(this.plotOptions(labels), data, this.plotElement);
    this.resizeObserver = new ResizeObserver(() => {
      const width = this.plotElement.clientWidth;
      if (this.plot && width > 0 && width !== this.plot.width) {
        this.plot.setSize({ width, height: PLOT_HEIGHT });
      }
    });
    this.resizeObserver.observe(this.plotElement);
  }

  plotOptions(labels) {
    const unit = this.def.unit;
    const axisStyle = { stroke: "#3d444d", grid: { stroke: "#d8dee4", width: 1 }, ticks: { stroke: "#d8dee4", width: 1 } };
    return {
      width: Math.max(this.plotElement.clientWidth, 200),
      height: PLOT_HEIGHT,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: true },
        y: { range: unit === "percent" ? [0, 100] : (u, min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      axes: [
        { ...axisStyle, values: formatTimeTicks },
        {
          ...axisStyle,
          size: unit === "percent" ? 48 : 80,
          incrs: unit === "percent" ? undefined : BYTE_INCREMENTS,
          values: (u, splits) => splits.map((v) => formatAxis(unit, v)),
        },
      ],
      series: [{}, ...labels.map((label, i) => ({ label, stroke: PALETTE[i % PALETTE.length], width: 1.5 }))],
      hooks: { setCursor: [(u) => this.onCursor(u)] },
    };
  }

  // onCursor writes the values under the cursor, with the bucket start time
  // in the viewer's time zone.
  onCursor(u) {
    const idx = u.cursor.idx;
    if (idx === null || idx === undefined) {
      setText(this.readout, "");
      return;
    }
    const time = formatDateTime(new Date(u.data[0][idx] * 1000));
    const values = u.series.slice(1).map((s, i) => s.label + " " + formatValue(this.def.unit, u.data[i + 1][idx]));
    setText(this.readout, time + " · " + values.join(", "));
  }

  // onKey moves the cursor with the arrow keys, and with Home and End to the
  // oldest and newest bucket that has data, so that values can be read
  // without a mouse.
  onKey(event) {
    if (!this.plot || !["ArrowLeft", "ArrowRight", "Home", "End"].includes(event.key)) {
      return;
    }
    event.preventDefault();
    const xs = this.plot.data[0];
    const withData = indexesWithData(this.plot.data);
    if (withData.length === 0) {
      return;
    }

    const newest = withData[withData.length - 1];
    const current = this.plot.cursor.idx ?? newest;
    let idx = current;
    if (event.key === "ArrowLeft") {
      idx = Math.max(0, current - 1);
    } else if (event.key === "ArrowRight") {
      idx = Math.min(xs.length - 1, current + 1);
    } else if (event.key === "Home") {
      idx = withData[0];
    } else {
      idx = newest;
    }

    const left = this.plot.valToPos(xs[idx], "x");
    const top = this.plot.over.clientHeight / 2;
    this.plot.setCursor({ left, top });
  }

  hideCursor() {
    if (this.plot) {
      this.plot.setCursor({ left: -10, top: -10 });
    }
  }

  destroyPlot() {
    if (this.resizeObserver) {
      this.resizeObserver.disconnect();
      this.resizeObserver = null;
    }
    if (this.plot) {
      this.plot.destroy();
      this.plot = null;
    }
    this.plotKey = "";
  }
}
