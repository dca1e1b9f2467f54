package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/aegis-safety/aegis/native/server"
	"github.com/aegis-safety/aegis/native/tokenizer"
)

func runServe(args []string, stdout io.Writer) error {
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
	token := fs.String("token", "", "access token; required to listen on a non-loopback address")
	maxTokens := fs.Int("max-tokens", 512, "most tokens a /v1 answer may have")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *token == "" && !server.IsLoopbackAddr(*addr) {
		return fmt.Errorf("%w: --addr %s is not a loopback address; pass --token to serve it", errUsage, *addr)
	}
	opt := server.Options{RunsDir: *runs, Token: *token}
	if exe, err := os.Executable(); err == nil {
		opt.Launch = &server.ProcessLauncher{Exe: exe}
	}
	if mf.dir != "" {
		m, err := mf.load()
		if err != nil {
			return err
		}
		tok, err := tokenizer.Load(mf.dir)
		if err != nil {
			return err
		}
		stop := eosIDs(m.Config.EOSTokenID)
		if tok.Config != nil {
			if id, ok := tok.TokenID(tok.Config.EOSToken); ok && !slices.Contains(stop, id) {
				stop = append(stop, id)
			}
		}
		n := *name
		if n == "" {
			n = filepath.Base(filepath.Clean(mf.dir))
		}
		opt.Chat = &server.ChatModel{Name: n, Model: m, Tok: tok, StopIDs: stop, MaxTokens: *maxTokens}
	}
	srv, err := server.New(opt)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10}
	fmt.Fprintf(stdout, "aegis serve: http://%s/ (runs in %s)\n", ln.Addr(), *runs)
	if opt.Chat != nil {
		fmt.Fprintf(stdout, "aegis serve: OpenAI-compatible API at http://%s/v1 serving %q\n", ln.Addr(), opt.Chat.Name)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	srv.Close()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}
