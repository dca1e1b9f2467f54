package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/aegis-safety/aegis/internal/cli/sandboxflags"
	"github.com/aegis-safety/aegis/native/server"
)

// serveChatModel loads the model /v1 serves: the --model folder, else c.serveModel's
// folder, else none (nil: /v1 answers 503).
func (c *cli) serveChatModel(mf modelFlags, name, template string, maxTokens int) (*server.ChatModel, error) {
	dir := mf.dir
	if dir == "" && c.serveModel != nil {
		d, err := c.serveModel()
		if err != nil {
			return nil, fmt.Errorf("the default model: %w", err)
		}
		dir = d
	}
	if dir == "" {
		if mf.adapter != "" {
			return nil, fmt.Errorf("%w: --adapter needs --model", errUsage)
		}
		return nil, nil
	}
	tmpl, err := readTemplateFlag(template)
	if err != nil {
		return nil, err
	}
	return server.LoadChatModel(server.ChatConfig{Dir: dir, Name: name, Adapter: mf.adapter, BF16: mf.bf16,
		Template: tmpl, MaxTokens: maxTokens})
}

func runServe(ctx context.Context, c *cli, args []string) error {
	c.handleInterrupt()
	return c.serve(ctx, args, nil)
}

// serveHelp is aegis serve --help's text.
const serveHelp = `Serves the monitor: the runs in --runs (training runs from 'aegis train', scans from
'aegis eval') with live charts over websockets, an ASR heatmap and sample browser, a compare
view, the modules page (upload an attack .wasm, checked in the sandbox), a launch form
(runs start as child processes of this binary, output in RUN/aegis.log; models and data
are picked from the embedded model, the served one, --models DIR, --data DIR and finished
runs; runs started there can be stopped and deleted), and offline evaluation in the
browser. JSON API: GET /api/runs[?q=&status=&kind=&sort=&order=], /api/runs/{id},
/api/runs/{id}/events; POST /api/runs/{id}/stop, DELETE /api/runs/{id} (runs started from
the launch form); websocket /ws/runs/{id}?from=STEP.

It also serves an OpenAI-compatible API over --model DIR (default: the embedded demo
model), for OpenAI's clients, promptfoo, lm-evaluation-harness and 'aegis eval --endpoint':
  GET  /v1/models, /v1/models/{id}
  POST /v1/chat/completions  model (required), messages (system, developer, user,
       assistant; text content), max_tokens or max_completion_tokens, temperature (default
       0: greedy), top_p, n (<= 8), stop (<= 4), seed, stream with stream_options
       .include_usage, logprobs with top_logprobs (0-20)
  POST /v1/completions       model, prompt (a string, strings, token ids or lists of
       them; <= 64 prompts and <= 64 completions a request), max_tokens (default 16),
       temperature, top_p, n, stop, seed, stream, logprobs (0-5), echo
Limits: max_tokens above --max-tokens, or more than the context leaves after the prompt,
is a 400, not cut short; without max_tokens an answer runs to --max-tokens or the end of
the context. Logprobs are the model's log-softmax before temperature and top_p. Any other
parameter (tools, response_format, logit_bias, ...) is a 400 naming it;
presence_penalty, frequency_penalty (0) and best_of (1) are taken at their defaults only.
Every error is OpenAI's {"error":{"message","type","param","code"}}. Requests take turns
on the model; bodies are at most 1 MiB.

The server listens on loopback only unless --token is given; then every page, API,
websocket and upload request needs Authorization: Bearer TOKEN or ?token=TOKEN (which
sets a cookie for the browser). --cors-origin lets one browser origin's pages call /v1
(CORS); everything else stays same-origin.

Every request is logged on stderr (or --access-log FILE), one line each: time (UTC),
client, method, path (never the query, so never a token), status, duration, bytes, and
what it did: run=ID for launches, stops and deletions, module=NAME for uploads,
error="..." when refused with a message.`

// serve runs the server until ctx ends; listening, when set, learns the bound address.
func (c *cli) serve(ctx context.Context, args []string, listening func(addr string)) error {
	stdout := c.stdout
	fs := newFlags("serve", "[--addr 127.0.0.1:8080] [--runs DIR] [--model DIR] [--token T] [--cors-origin ORIGIN]",
		serveHelp, stdout)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	runs := fs.String("runs", "runs", "runs folder (created if missing)")
	var mf modelFlags
	mf.register(fs)
	name := fs.String("model-name", "", "model id served on /v1 (default: the model folder's name)")
	template := fs.String("chat-template", "", "chat template for /v1: a built-in name (llama3, chatml, mistral) or a file; default the tokenizer's")
	token := fs.String("token", "", "access token; required to listen on a non-loopback address")
	maxTokens := fs.Int("max-tokens", 512, "most tokens a /v1 answer may have (max_tokens above it is refused)")
	corsOrigin := fs.String("cors-origin", "", "a browser origin (scheme://host[:port]) allowed to call /v1 from its pages; default none")
	modelsDir := fs.String("models", "models", "folder of model folders the launch form offers (ignored if missing)")
	dataDir := fs.String("data", "data", "folder of JSONL files the launch form offers, two levels deep (ignored if missing)")
	accessLog := fs.String("access-log", "", "append the access log (one line a request) to this file instead of stderr; \"none\" for no log")
	var lf sandboxflags.Limits // the limits an uploaded module is checked and run under
	lf.RegisterWith(fs.FlagSet, server.UploadLimits)
	if err := fs.parse(args); err != nil {
		return err
	}
	limits, err := lf.Check()
	if err != nil {
		return err
	}
	limits.MaxInstances = server.UploadLimits.MaxInstances
	if *token == "" && !server.IsLoopbackAddr(*addr) {
		return fmt.Errorf("%w: --addr %s is not a loopback address; pass --token to serve it", errUsage, *addr)
	}
	if *maxTokens < 1 {
		return fmt.Errorf("%w: --max-tokens must be at least 1", errUsage)
	}
	opt := server.Options{RunsDir: *runs, Token: *token, ModuleLimits: limits}
	if *corsOrigin != "" {
		o, err := server.CheckOrigin(*corsOrigin)
		if err != nil {
			return fmt.Errorf("%w: --cors-origin: %v", errUsage, err)
		}
		opt.CORSOrigin = o
	}
	if exe, err := os.Executable(); err == nil {
		opt.Launch = &server.ProcessLauncher{Exe: exe}
	}
	switch *accessLog {
	case "":
		opt.AccessLog = c.progress
	case "none":
	default:
		f, err := os.OpenFile(*accessLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("--access-log: %w", err)
		}
		defer f.Close()
		opt.AccessLog = f
	}
	chat, err := c.serveChatModel(mf, *name, *template, *maxTokens)
	if err != nil {
		return err
	}
	opt.Chat = chat
	// The launch form offers the embedded model and the served one by name.
	opt.ModelsDir, opt.DataDir = *modelsDir, *dataDir
	if c.serveModel != nil {
		if dir, err := c.serveModel(); err == nil {
			opt.Models = append(opt.Models, server.NamedDir{Name: filepath.Base(dir), Dir: dir, Note: "embedded"})
		}
	}
	if mf.dir != "" && mf.adapter == "" && chat != nil {
		n := chat.Name
		if len(opt.Models) > 0 && opt.Models[0].Name == n {
			n += " (served)"
		}
		opt.Models = append(opt.Models, server.NamedDir{Name: n, Dir: mf.dir, Note: "served on /v1"})
	}
	srv, err := server.New(opt)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "aegis serve: http://%s/ (runs in %s)\n", ln.Addr(), *runs)
	if opt.Chat != nil {
		fmt.Fprintf(stdout, "aegis serve: OpenAI-compatible API at http://%s/v1 serving %q\n", ln.Addr(), opt.Chat.Name)
		if opt.CORSOrigin != "" {
			fmt.Fprintf(stdout, "aegis serve: /v1 answers browser pages of %s (CORS)\n", opt.CORSOrigin)
		}
	}
	if listening != nil {
		listening(ln.Addr().String())
	}
	return srv.Serve(ctx, ln)
}
