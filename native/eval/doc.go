// Package eval measures how a model answers a safety dataset: it sends every prompt (plain
// or rewritten by attack modules) to a model under test — a local model folder, decoded in
// left-padded KV-cache batches, or any OpenAI-compatible server (vLLM, TGI, llama.cpp,
// Ollama) with bounded concurrency, timeouts and retries — judges each answer with a judge
// module and optionally an LLM judge (Llama Guard style), and reports attack success rates
// per category and attack style with Wilson intervals, refusal and over-refusal rates, and
// pairwise win rates.
//
// Scan runs a scan end to end into a folder (results.jsonl, report.json, report.md: see
// package rundir). Every attempt is a line of results.jsonl appended as soon as its state changes (pending,
// generated, judged); the latest line per id wins. A scan can therefore be interrupted at
// any point and resumed without resending finished attempts.
package eval
