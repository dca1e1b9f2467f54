package main

import (
	"context"
	"fmt"
	"net"
	"os"

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

// serve runs the server until ctx ends; listening, when set, learns the bound address.
func (c *cli) serve(ctx context.Context, args []string, listening func(addr string)) error {
	stdout := c.stdout
	fs := newFlags("serve", "[--addr 127.0.0.1:8080] [--runs DIR] [--model DIR] [--token T]",
		`Serves the monitor: the runs in --runs (training runs from 'aegis train', scans from
'aegis eval') with live charts over websockets, an ASR heatmap and sample browser, a compare
view, the modules page (upload an attack .wasm, checked in the sandbox), a launch form
(runs start as child processes of this binary, output in RUN/aegis.log), and offline
evaluation in the browser. JSON API: GET /api/runs, /api/runs/{id}, /api/runs/{id}/events;
websocket /ws/runs/{id}?from=STEP.

With --model it also serves an OpenAI-compatible API over that model folder:
POST /v1/chat/completions (stream: true for server-sent events) and GET /v1/models.

The server listens on loopback only unless --token is given; then every page, API,
websocket and upload request needs Authorization: Bearer TOKEN or ?token=TOKEN (which
sets a cookie for the browser).`, stdout)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	runs := fs.String("runs", "runs", "runs folder (created if missing)")
	var mf modelFlags
	mf.register(fs)
	name := fs.String("model-name", "", "model id served on /v1 (default: the model folder's name)")
	template := fs.String("chat-template", "", "chat template for /v1: a built-in name (llama3, chatml, mistral) or a file; default the tokenizer's")
	token := fs.String("token", "", "access token; required to listen on a non-loopback address")
	maxTokens := fs.Int("max-tokens", 512, "most tokens a /v1 answer may have")
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
	opt := server.Options{RunsDir: *runs, Token: *token, ModuleLimits: limits}
	if exe, err := os.Executable(); err == nil {
		opt.Launch = &server.ProcessLauncher{Exe: exe}
	}
	chat, err := c.serveChatModel(mf, *name, *template, *maxTokens)
	if err != nil {
		return err
	}
	opt.Chat = chat
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
	}
	if listening != nil {
		listening(ln.Addr().String())
	}
	return srv.Serve(ctx, ln)
}
