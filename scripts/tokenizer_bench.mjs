// Hugging Face tokenizers (Rust, via @anush008/tokenizers) encode throughput, the
// reference for `aegis bench tokenize`. Reads a JSONL file of strings (one document per
// line), encodes them without special tokens, and prints one JSON line:
// {"seconds", "first_seconds", "bytes", "tokens", "hash"}: the fastest of ROUNDS passes
// and the first (cold cache) one. The hash
// lets the caller check that both encoders produced the same ids.
//
//   node tokenizer_bench.mjs TOKENIZER.json DOCS.jsonl [ROUNDS]
//
// Run it with RAYON_NUM_THREADS=1 (and TOKENIZERS_PARALLELISM=false) for single-thread
// figures: encodeBatch otherwise spreads a batch over all cores.
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "tokenizer_ref", "package.json"));
const { Tokenizer } = require("@anush008/tokenizers");

const [file, docsFile, roundsArg] = process.argv.slice(2);
const tok = Tokenizer.fromFile(file);
const docs = fs.readFileSync(docsFile, "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
const bytes = docs.reduce((n, d) => n + Buffer.byteLength(d), 0);
const rounds = Number(roundsArg || 3);
const batch = 64;
let best = Infinity, first = 0, tokens = 0, hash = 0;
for (let r = 0; r < rounds; r++) {
  const t0 = process.hrtime.bigint();
  const encs = [];
  for (let i = 0; i < docs.length; i += batch) {
    encs.push(...(await tok.encodeBatch(docs.slice(i, i + batch), { addSpecialTokens: false })));
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  best = Math.min(best, s);
  if (r === 0) {
    first = s;
    for (const e of encs) {
      for (const id of e.getIds()) {
        hash = (Math.imul(hash, 31) + id + 1) >>> 0;
        tokens++;
      }
    }
  }
}
console.log(JSON.stringify({ seconds: best, first_seconds: first, bytes, tokens, hash }));
