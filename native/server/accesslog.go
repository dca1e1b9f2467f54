package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The access log: one line a request, written when its handler returns,
//
//	2026-01-02T15:04:05.000Z 127.0.0.1 POST /api/launch 303 1.8ms 0B run=dpo-1
//
// (time in UTC, client address, method, path without the query, status, duration, bytes
// written, then what the request did: run=ID for a launch, a stop or a delete,
// module=NAME for an upload, error=... when it was refused with a message). The query is
// left out, so a ?token= never reaches the log. Websockets are logged when they close,
// with status 101.

// accessLog writes the access log lines to w, one at a time.
type accessLog struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *accessLog) write(r *http.Request, rec *recorder, d time.Duration) {
	var b strings.Builder
	host := r.RemoteAddr
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	fmt.Fprintf(&b, "%s %s %s %s %d %s %dB", time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), host, r.Method,
		logSafe(r.URL.Path), rec.status(), fmtDuration(d), rec.bytes)
	for _, n := range rec.notes {
		b.WriteString(" ")
		b.WriteString(n)
	}
	b.WriteString("\n")
	l.mu.Lock()
	io.WriteString(l.w, b.String())
	l.mu.Unlock()
}

// fmtDuration is a duration with three significant digits at most (812µs, 1.8ms, 2.41s).
func fmtDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(100 * time.Microsecond).String()
	case d < time.Minute:
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// logSafe keeps a logged value on one line and printable: control bytes and spaces become
// %XX, as in a URL.
func logSafe(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == 0x7f {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// recorder is the ResponseWriter handlers see when the access log is on: it notes the
// status and the bytes written, and what the handler said about the request (logNote).
// It passes Flush and Hijack through (streamed answers, websockets) and unwraps for
// http.ResponseController.
type recorder struct {
	http.ResponseWriter
	code     int
	bytes    int64
	hijacked bool
	mu       sync.Mutex
	notes    []string
}

func (r *recorder) status() int {
	switch {
	case r.hijacked:
		return http.StatusSwitchingProtocols
	case r.code == 0:
		return http.StatusOK
	}
	return r.code
}

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := r.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	c, rw, err := h.Hijack()
	if err == nil {
		r.hijacked = true
	}
	return c, rw, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

type recorderKey struct{}

// logNote adds key=value to the request's access log line (a no-op without the log); a
// value with spaces, quotes or control bytes is quoted.
func logNote(r *http.Request, key, value string) {
	if rec, ok := r.Context().Value(recorderKey{}).(*recorder); ok {
		if value == "" || strings.ContainsFunc(value, func(c rune) bool { return c <= ' ' || c == '"' || c == 0x7f || !strconv.IsPrint(c) }) {
			value = strconv.Quote(value)
		}
		rec.mu.Lock()
		rec.notes = append(rec.notes, key+"="+value)
		rec.mu.Unlock()
	}
}

// withAccessLog wraps ServeHTTP's work in the access log when there is one.
func (s *Server) withAccessLog(w http.ResponseWriter, r *http.Request, serve func(http.ResponseWriter, *http.Request)) {
	if s.access == nil {
		serve(w, r)
		return
	}
	start := time.Now()
	rec := &recorder{ResponseWriter: w}
	r = r.WithContext(context.WithValue(r.Context(), recorderKey{}, rec))
	defer func() { s.access.write(r, rec, time.Since(start)) }()
	serve(rec, r)
}
