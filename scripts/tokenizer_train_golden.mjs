// Checks `aegis tokenizer train` against Hugging Face tokenizers: trains on the committed
// corpus, loads the resulting tokenizer.json in HF tokenizers (Rust, via
// @anush008/tokenizers) and records its ids for texts, which the Go tests compare with
// aegis's own encoder on the same file.
//
//   cd scripts/tokenizer_ref && npm ci && cd .. && node tokenizer_train_golden.mjs
//
// It also trains Hugging Face's own BpeTrainer (the model's default trainer: min_frequency
// 0, no vocabulary limit reached) with a ByteLevel pre-tokenizer on the same corpus and
// writes its merges to train/hf_merges.json; the Go tests check that TrainBPE with
// MinFrequency 1 learns the same merges in the same order.
import { createRequire } from "node:module";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, "..");
const require = createRequire(path.join(here, "tokenizer_ref", "package.json"));
const hf = require("@anush008/tokenizers");
const { Tokenizer } = hf;
const dir = path.join(root, "native", "tokenizer", "testdata", "train");

execFileSync("go", ["run", "./cmd/aegis", "tokenizer", "train", "--in", path.join(dir, "corpus.txt"),
  "--vocab-size", "1000", "--special-tokens", "<|endoftext|>,<|pad|>", "--out", path.join(dir, "tokenizer.json")],
  { cwd: root, stdio: "inherit" });

const tok = Tokenizer.fromFile(path.join(dir, "tokenizer.json"));
const texts = fs.readFileSync(path.join(root, "native", "tokenizer", "testdata", "golden_llama3.jsonl"), "utf8")
  .trim().split("\n").map((l) => JSON.parse(l).text);
texts.push(...fs.readFileSync(path.join(dir, "corpus.txt"), "utf8").split("\n").slice(0, 200));
texts.push("<|endoftext|>text<|pad|> more", "unseen words: quizzical zephyr 🦄");
const lines = [];
for (const text of texts) {
  const ids = Array.from((await tok.encode(text, null, { addSpecialTokens: false })).getIds());
  lines.push(JSON.stringify({ text, ids, decoded: await tok.decode(ids, false) }));
}
fs.writeFileSync(path.join(dir, "golden.jsonl"), lines.join("\n") + "\n");
console.log(`train/golden.jsonl: ${lines.length} texts encoded by HF tokenizers with the trained tokenizer.json`);

const trainer = new Tokenizer(hf.BPE.empty());
trainer.setPreTokenizer(hf.byteLevelPreTokenizer(false, true));
trainer.train([path.join(dir, "corpus.txt")]);
const saved = path.join(dir, "hf_trained.tmp.json");
trainer.save(saved, false);
const merges = JSON.parse(fs.readFileSync(saved, "utf8")).model.merges.map((m) => (typeof m === "string" ? m.split(/ (.*)/s).slice(0, 2) : m));
fs.rmSync(saved);
fs.writeFileSync(path.join(dir, "hf_merges.json"), "[\n" + merges.map((m) => JSON.stringify(m)).join(",\n") + "\n]\n");
console.log(`train/hf_merges.json: ${merges.length} merges learned by HF's BpeTrainer`);
