// Pure data steps between the query API and the charts: turning responses
// into series, byte deltas into rates, and series into uPlot's column data.
// Kept free of DOM code so that node's test runner can check them.

// seriesFromResponse turns a /api/v1/metrics/query response into a list of
// {value, points} where value is the label value of a grouped series (null
// for an ungrouped response) and points are {time (ms), value} oldest first.
// Points with an unparsable time or a non-numeric value are left out.
export function seriesFromResponse(body, labelKey) {
  const groups = Array.isArray(body && body.series)
    ? body.series.map((s) => ({ value: labelValue(s, labelKey), points: s.points }))
    : [{ value: null, points: body && body.points }];

  return groups.map((g) => ({ value: g.value, points: parsePoints(g.points) }));
}

function labelValue(series, labelKey) {
  const labels = series && series.labels;
  if (labels && labelKey && typeof labels[labelKey] === "string") {
    return labels[labelKey];
  }
  return "";
}

function parsePoints(points) {
  if (!Array.isArray(points)) {
    return [];
  }
  const out = [];
  for (const p of points) {
    if (p === null || typeof p !== "object") {
      continue;
    }
    const time = Date.parse(p.time);
    const value = typeof p.value === "number" ? p.value : Number(p.value);
    if (Number.isFinite(time) && Number.isFinite(value)) {
      out.push({ time, value });
    }
  }
  return out;
}

// RATE_MODES lists the ways bytes per second are derived from the per-sample byte
// deltas that net.* stores.
//
// "interval": query agg=avg; rate = average delta ÷ the host's collection
// interval in seconds. Every bucket, the newest partial one included, gives
// the rate over the samples it has.
//
// "bucket": query agg=sum; rate = sum of deltas ÷ bucket length in seconds.
// This needs no interval but only holds for a bucket that has ended: the
// newest bucket still filling would read low, so it is left out.
export const RATE_MODES = { interval: "interval", bucket: "bucket" };

// rateMode picks "interval" when the host reports its collection interval,
// else "bucket".
export function rateMode(intervalSeconds) {
  return Number.isFinite(intervalSeconds) && intervalSeconds > 0 ? RATE_MODES.interval : RATE_MODES.bucket;
}

// aggregationFor returns the agg query parameter that a rate mode needs.
export function aggregationFor(mode) {
  return mode === RATE_MODES.bucket ? "sum" : "avg";
}

// toRate converts points of byte deltas to bytes per second. bucketMs is the
// bucket length and toMs the end of the query window, both in milliseconds.
export function toRate(points, { mode, intervalSeconds, bucketMs, toMs }) {
  if (mode === RATE_MODES.interval) {
    return points.map((p) => ({ time: p.time, value: p.value / intervalSeconds }));
  }

  const bucketSeconds = bucketMs / 1000;
  return points
    .filter((p) => p.time + bucketMs <= toMs)
    .map((p) => ({ time: p.time, value: p.value / bucketSeconds }));
}

// newestPoint returns the last point of an oldest-first list, or null.
export function newestPoint(points) {
  return points.length === 0 ? null : points[points.length - 1];
}

// alignSeries builds uPlot's column data. The x column holds, in seconds,
// every bucket start from fromMs up to toMs (so that missing buckets show
// as gaps) plus any point time off that grid. Each series gets a y column
// with null where it has no point.
export function alignSeries(seriesList, { fromMs, toMs, bucketMs }) {
  const times = new Set();
  for (let t = fromMs; t < toMs; t += bucketMs) {
    times.add(t);
  }
  for (const s of seriesList) {
    for (const p of s.points) {
      times.add(p.time);
    }
  }

  const xs = [...times].sort((a, b) => a - b);
  const index = new Map(xs.map((t, i) => [t, i]));
  const columns = seriesList.map((s) => {
    const ys = new Array(xs.length).fill(null);
    for (const p of s.points) {
      ys[index.get(p.time)] = p.value;
    }
    return ys;
  });

  return [xs.map((t) => t / 1000), ...columns];
}

const collator = new Intl.Collator("en", { numeric: true });

// compareLabelValues orders label values for display: "total" first, then
// natural order, so that core 2 comes before core 10.
export function compareLabelValues(a, b) {
  if (a === b) {
    return 0;
  }
  if (a === "total") {
    return -1;
  }
  if (b === "total") {
    return 1;
  }
  return collator.compare(a, b);
}

// labelSetsFromResponse reads the label values of labelKey from a
// /api/v1/series response. It accepts {"series": [{"labels": {...}}]},
// {"series": [{...}]} and {"labels": [{...}]}, and returns the sorted,
// distinct values.
export function labelSetsFromResponse(body, labelKey) {
  let list = [];
  if (body && Array.isArray(body.series)) {
    list = body.series;
  } else if (body && Array.isArray(body.labels)) {
    list = body.labels;
  }

  const values = new Set();
  for (const item of list) {
    const labels = item && typeof item.labels === "object" && item.labels !== null ? item.labels : item;
    const value = labels && labels[labelKey];
    if (typeof value === "string" && value !== "") {
      values.add(value);
    }
  }
  return [...values].sort(compareLabelValues);
}

// seriesLabel names a series: the label value when there is one ("core 3",
// "/data", "eth0", and "total" for the all-cores series of a per-core
// breakdown), plus the line name when the chart draws several lines.
export function seriesLabel(def, line, value) {
  const parts = [];
  if (value === "total") {
    parts.push(value);
  } else if (value) {
    parts.push((def.valuePrefix || "") + value);
  }
  if (def.lines.length > 1 || parts.length === 0) {
    parts.push(line.name);
  }
  return parts.join(" ");
}
