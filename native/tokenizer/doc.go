// Package tokenizer reads Hugging Face tokenizer.json files and encodes and decodes text
// exactly as the Hugging Face tokenizers library does, renders chat templates from
// tokenizer_config.json, and trains byte-level BPE tokenizers.
//
// Supported components (anything else is refused with an error naming it):
//
//   - model: BPE (vocab, merges as "a b" or ["a","b"], unk_token, fuse_unk, byte_fallback,
//     ignore_merges, continuing_subword_prefix, end_of_word_suffix; dropout must be null/0)
//   - normalizer: NFC, NFD, NFKC, NFKD, Lowercase, Strip, Prepend, Replace, Sequence
//   - pre_tokenizer: ByteLevel, Split (the GPT-2, Llama-3 and Qwen2 patterns by a
//     hand-written scanner; other patterns through Go's regexp when they need no
//     lookaround), Metaspace, Digits, WhitespaceSplit, Sequence
//   - decoder: ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip, Sequence
//   - post_processor: TemplateProcessing, ByteLevel, RobertaProcessing, BertProcessing,
//     Sequence
//   - added_tokens with their lstrip, rstrip, normalized and single_word flags, matched in
//     the text before the model runs (leftmost-longest, as HF's Aho-Corasick does).
//
// Limits: truncation and padding settings are ignored (callers decide lengths); offsets
// are not produced; Unicode tables are Go's, so classes (\p{L}, \p{N}, \s) and
// normalization follow Go's Unicode version, which can differ from Rust's for characters
// added recently. Split patterns other than the three known ones are run by Go's RE2
// after mapping \s to Unicode white space; RE2 has no lookaround or backreferences, so
// such patterns are refused at load time. Words of up to 255 bytes are cached (as HF
// does), so repeated text encodes fast; the cache is bounded.
//
// Chat templates (ApplyChatTemplate, EncodeChat) run on github.com/ardanlabs/jinja with
// transformers' settings (trim_blocks, lstrip_blocks) and context (messages,
// add_generation_prompt, tools, documents, the special tokens, strftime_now). Templates
// are rewritten before compiling so that values turn into text as in Python: tojson is
// transformers' json.dumps (floats as Python writes them, 2.0 not 2; indent, separators,
// sort_keys, ensure_ascii), trim and string use str(), and {{ x }} prints str(x) (None,
// floats, lists and dicts as Python prints them). Inputs that make Python raise a
// TypeError (e.g. a string plus None) render instead of failing. Built-in templates
// (llama3, chatml, mistral) serve models whose tokenizer_config.json has none.
//
// Load also reads tokenizer_config.json beside tokenizer.json: its chat template and
// special tokens, and, for Llama tokenizer classes, add_bos_token/add_eos_token, which
// transformers' LlamaTokenizerFast turns into the post-processor at load time; a
// chat_template.jinja there replaces the config's template, as in transformers.
//
// TrainBPE learns a byte-level BPE vocabulary with HF BpeTrainer's algorithm and
// tie-breaking and writes a tokenizer.json.
package tokenizer
