// Tests the offline page's JSONL reader (static/rows.js) under Node
// (node --test web/rows.test.mjs); web/rows_test.go runs this from `go test`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseRows } from "./static/rows.js";

const line = (o) => JSON.stringify(o);

test("an eval's results.jsonl counts each attempt once, its latest line", () => {
  const lines = [];
  for (let i = 0; i < 317; i++) {
    const base = { id: `p${i}`, prompt: `prompt ${i}`, attack: "none", category: i % 2 ? "S1" : "benign" };
    lines.push(line({ ...base, status: "pending", response: null, verdict: null }));
    lines.push(line({ ...base, status: "generated", response: `first answer ${i}`, verdict: null }));
    lines.push(line({ ...base, status: "judged", response: `answer ${i}`, verdict: { refusal: false, unsafe: false } }));
  }
  const { rows, lines: n, attempts } = parseRows(lines.join("\n") + "\n");
  assert.equal(n, 951);
  assert.equal(attempts, 317);
  assert.equal(rows.length, 317);
  assert.equal(rows[5].response, "answer 5");
  assert.equal(rows[5].category, "S1");
});

test("pending attempts are left out; rows without an id count one a line", () => {
  const text = [
    line({ id: "a", status: "pending", prompt: "x", response: null }),
    line({ id: "b", status: "pending", prompt: "y", response: null }),
    line({ id: "b", status: "generated", prompt: "y", response: "yes" }),
    line({ prompt: "same", response: "r" }),
    line({ prompt: "same", response: "r" }),
    "",
  ].join("\n");
  const { rows, attempts } = parseRows(text);
  assert.equal(attempts, 4);
  assert.deepEqual(rows.map((r) => r.response), ["yes", "r", "r"]);
});

test("a bad line names its number", () => {
  assert.throws(() => parseRows('{"prompt":"a","response":"b"}\nnot json\n'), /line 2: not JSON/);
  assert.throws(() => parseRows("[1]\n"), /line 1: not a JSON object/);
});
