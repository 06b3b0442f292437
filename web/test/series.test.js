import assert from "node:assert/strict";
import { test } from "node:test";

import { findRange, queryWindow, RANGES } from "../src/ranges.js";
import {
  aggregationFor,
  alignSeries,
  labelSetsFromResponse,
  rateMode,
  seriesFromResponse,
  seriesLabel,
  toRate,
} from "../src/series.js";

const MINUTE = 60000;

test("every range keeps charts at or under 1500 points", () => {
  const bucketSeconds = { "1m": 60, "5m": 300, "15m": 900, "1h": 3600, "1d": 86400 };
  for (const range of RANGES) {
    assert.ok(range.seconds / bucketSeconds[range.bucket] <= 1500, range.id);
  }
  assert.equal(findRange("nonsense").id, "1h");
});

test("queryWindow starts on a bucket boundary within the range", () => {
  const now = Date.parse("2026-03-01T10:17:42Z");
  const w = queryWindow(findRange("6h"), now);
  assert.equal(w.bucket, "5m");
  assert.equal(w.from % (5 * MINUTE), 0);
  assert.ok(now - w.from <= 6 * 60 * MINUTE);
  assert.ok(now - w.from > 6 * 60 * MINUTE - 5 * MINUTE);
  assert.equal(w.to, now);
});

test("seriesFromResponse reads plain and grouped responses", () => {
  const plain = seriesFromResponse({ points: [{ time: "2026-01-01T00:00:00Z", value: 1.5 }, { time: "bad", value: 2 }, null] }, "core");
  assert.deepEqual(plain, [{ value: null, points: [{ time: Date.parse("2026-01-01T00:00:00Z"), value: 1.5 }] }]);

  const grouped = seriesFromResponse({ series: [{ labels: { core: "1" }, points: [] }, { labels: {}, points: [{ time: "2026-01-01T00:01:00Z", value: 3 }] }] }, "core");
  assert.equal(grouped.length, 2);
  assert.equal(grouped[0].value, "1");
  assert.equal(grouped[1].value, "");
  assert.deepEqual(seriesFromResponse({}, "core"), [{ value: null, points: [] }]);
});

test("interval-mode rate divides the average", () => {
  const mode = rateMode(10);
  assert.equal(mode, "interval");
  assert.equal(aggregationFor(mode), "avg");
  const points = [{ time: 0, value: 1000 }, { time: MINUTE, value: 2000 }];
  // The newest bucket is still filling; its average is still a rate.
  assert.deepEqual(toRate(points, { mode, intervalSeconds: 10, bucketMs: MINUTE, toMs: MINUTE + 5000 }), [
    { time: 0, value: 100 },
    { time: MINUTE, value: 200 },
  ]);
});

test("bucket-mode rate drops an unfinished bucket", () => {
  for (const interval of [0, undefined, NaN, -1]) {
    assert.equal(rateMode(interval), "bucket");
  }
  assert.equal(aggregationFor("bucket"), "sum");
  const points = [{ time: 0, value: 6000 }, { time: MINUTE, value: 600 }];
  assert.deepEqual(toRate(points, { mode: "bucket", bucketMs: MINUTE, toMs: MINUTE + 5000 }), [{ time: 0, value: 100 }]);
  assert.deepEqual(toRate(points, { mode: "bucket", bucketMs: MINUTE, toMs: 2 * MINUTE }), [
    { time: 0, value: 100 },
    { time: MINUTE, value: 10 },
  ]);
});

test("alignSeries fills every bucket and leaves gaps as null", () => {
  const data = alignSeries(
    [
      { points: [{ time: 0, value: 1 }, { time: 2 * MINUTE, value: 3 }] },
      { points: [{ time: MINUTE, value: 5 }] },
    ],
    { fromMs: 0, toMs: 3 * MINUTE + 1, bucketMs: MINUTE },
  );
  assert.deepEqual(data, [
    [0, 60, 120, 180],
    [1, null, 3, null],
    [null, 5, null, null],
  ]);
});

test("labelSetsFromResponse accepts the documented and looser shapes", () => {
  assert.deepEqual(labelSetsFromResponse({ series: [{ labels: { core: "10" } }, { labels: { core: "2" } }, { labels: { core: "total" } }] }, "core"), ["total", "2", "10"]);
  assert.deepEqual(labelSetsFromResponse({ series: [{ mount: "/" }, { mount: "/data" }, { mount: "/" }] }, "mount"), ["/", "/data"]);
  assert.deepEqual(labelSetsFromResponse({ labels: [{ iface: "eth0" }] }, "iface"), ["eth0"]);
  assert.deepEqual(labelSetsFromResponse(null, "iface"), []);
});

test("seriesLabel names values and lines", () => {
  const cpu = { valuePrefix: "core ", lines: [{ name: "usage" }] };
  const net = { valuePrefix: "", lines: [{ name: "in" }, { name: "out" }] };
  assert.equal(seriesLabel(cpu, cpu.lines[0], null), "usage");
  assert.equal(seriesLabel(cpu, cpu.lines[0], "3"), "core 3");
  assert.equal(seriesLabel(cpu, cpu.lines[0], "total"), "total");
  assert.equal(seriesLabel(net, net.lines[1], "eth0"), "eth0 out");
  assert.equal(seriesLabel(net, net.lines[0], ""), "in");
});
