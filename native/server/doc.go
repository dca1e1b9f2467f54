// Package server is `aegis serve`: the run monitor (pages rendered from package web's templ
// components), its JSON API and websockets over the runs folder, module uploads checked in
// the sandbox, a launcher for training and eval runs, and an OpenAI-compatible API over a
// loaded model (/v1: chat and text completions with logprobs, OpenAI's error objects for
// every refusal, parameters it does not implement refused by name, CORS for one origin).
//
// The server only reads run folders: a trainer or scan writes events.jsonl or results.jsonl
// as always, and every websocket connection tails that file on its own. So the writers
// never wait for a browser, and a slow browser only falls behind (and is dropped once a
// write stalls) without slowing anything else.
package server
