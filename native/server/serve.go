package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// shutdownWait is how long Serve lets requests in flight finish once ctx ends.
const shutdownWait = 5 * time.Second

// Serve answers requests on ln until ctx ends, then ends the websocket streams and shuts
// down gracefully, waiting up to a few seconds for requests in flight. It has no read or
// write timeout: websockets and streamed answers are long-lived, and the handlers bound
// their own body reads and writes.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		MaxHeaderBytes: 64 << 10}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.Close()
	sctx, cancel := context.WithTimeout(context.Background(), shutdownWait)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}
