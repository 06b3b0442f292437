import assert from "node:assert/strict";
import { test } from "node:test";

import { entriesFromResponse, mergeNewest } from "../src/logs.js";

const entry = (id) => ({ id: String(id), time: new Date(id * 1000), level: "info", path: "/p", message: "m" + id });

test("entriesFromResponse reads entries and the cursor", () => {
  const page = entriesFromResponse({
    entries: [{ id: 7, time: "2026-01-01T00:00:00Z", level: "warn", path: "/var/log/x", message: "hi" }],
    next_cursor: "abc",
  });
  assert.equal(page.entries[0].id, "7");
  assert.equal(page.entries[0].level, "warn");
  assert.equal(page.nextCursor, "abc");
  assert.equal(entriesFromResponse({ entries: [], next_cursor: null }).nextCursor, null);
});

test("mergeNewest puts new entries in front and keeps the older pages", () => {
  const shown = [entry(5), entry(4), entry(3)];
  const merged = mergeNewest(shown, "cursor-3", { entries: [entry(6), entry(5), entry(4)], nextCursor: "cursor-4" });
  assert.deepEqual(merged.entries.map((e) => e.id), ["6", "5", "4", "3"]);
  assert.equal(merged.nextCursor, "cursor-3");
});

test("mergeNewest starts over when the fresh page does not reach the shown ones", () => {
  const shown = [entry(2), entry(1)];
  const merged = mergeNewest(shown, null, { entries: [entry(9), entry(8)], nextCursor: "cursor-8" });
  assert.deepEqual(merged.entries.map((e) => e.id), ["9", "8"]);
  assert.equal(merged.nextCursor, "cursor-8");
});

test("mergeNewest fills an empty list from the first page", () => {
  const merged = mergeNewest([], null, { entries: [entry(2), entry(1)], nextCursor: "c" });
  assert.deepEqual(merged.entries.map((e) => e.id), ["2", "1"]);
  assert.equal(merged.nextCursor, "c");
});
