// Time ranges of the picker and the query window each one maps to.

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// Bucket lengths the query API accepts, in seconds.
export const BUCKET_SECONDS = {
  "1m": MINUTE,
  "5m": 5 * MINUTE,
  "15m": 15 * MINUTE,
  "1h": HOUR,
  "1d": DAY,
};

// RANGES lists the picker's choices. Each bucket keeps a chart at or below
// 720 points per series (30 days of 1h buckets), under the budget of about
// 1500 points per chart.
export const RANGES = [
  { id: "15m", label: "15m", seconds: 15 * MINUTE, bucket: "1m" },
  { id: "1h", label: "1h", seconds: HOUR, bucket: "1m" },
  { id: "6h", label: "6h", seconds: 6 * HOUR, bucket: "5m" },
  { id: "24h", label: "24h", seconds: DAY, bucket: "5m" },
  { id: "7d", label: "7d", seconds: 7 * DAY, bucket: "15m" },
  { id: "30d", label: "30d", seconds: 30 * DAY, bucket: "1h" },
];

export const DEFAULT_RANGE = "1h";

// findRange returns the range with the given id, or the default range.
export function findRange(id) {
  return RANGES.find((r) => r.id === id) || RANGES.find((r) => r.id === DEFAULT_RANGE);
}

// queryWindow returns the from/to times (milliseconds) and bucket of a range
// ending at nowMs. "from" is moved forward to a bucket boundary so that the
// oldest bucket is a whole one and the span never exceeds the range (the
// server rejects spans over 30 days). The server starts buckets at
// multiples of the bucket length since the Unix epoch.
export function queryWindow(range, nowMs) {
  const bucketMs = BUCKET_SECONDS[range.bucket] * 1000;
  const rawFrom = nowMs - range.seconds * 1000;
  const from = Math.ceil(rawFrom / bucketMs) * bucketMs;
  return { from, to: nowMs, bucket: range.bucket, bucketMs };
}
