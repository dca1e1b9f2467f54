package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gorilla/websocket"
)

// Websocket timing. A write that cannot finish in writeWait means the client is not
// reading: it is dropped, and reconnects with ?from=its last step.
var (
	writeWait    = 10 * time.Second
	pongWait     = 60 * time.Second
	pingInterval = 25 * time.Second
	pollInterval = 150 * time.Millisecond
)

// tailer reads complete new lines of a growing file from where it last stopped.
type tailer struct {
	path string
	kind string
	off  int64
	line int // lines read (the step of eval results)
	part []byte
}

// next returns the complete lines appended since the last call.
func (t *tailer) next() ([][]byte, error) {
	f, err := os.Open(t.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() < t.off { // rewritten (e.g. eval --overwrite): start over
		t.off, t.line, t.part = 0, 0, nil
	}
	if st.Size() == t.off {
		return nil, nil
	}
	buf := make([]byte, min(st.Size()-t.off, 4<<20))
	n, err := f.ReadAt(buf, t.off)
	if err != nil && err != io.EOF {
		return nil, err
	}
	t.off += int64(n)
	data := append(t.part, buf[:n]...)
	var lines [][]byte
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		lines = append(lines, data[:i+1])
		data = data[i+1:]
	}
	t.part = append([]byte(nil), data...)
	return lines, nil
}

// message turns one line into the JSON object sent to clients and its step. Training
// events carry their own "step"; an eval result line gets its line number as "step".
func (t *tailer) message(line []byte) (json.RawMessage, int, bool) {
	line = bytes.TrimSpace(line)
	if len(line) < 2 || line[0] != '{' {
		return nil, 0, false
	}
	if t.kind == "eval" {
		t.line++
		if !json.Valid(line) {
			return nil, 0, false
		}
		msg := append([]byte(`{"step":`+strconv.Itoa(t.line)), ',')
		if bytes.Equal(bytes.TrimSpace(line[1:]), []byte("}")) {
			msg = msg[:len(msg)-1]
		}
		return append(msg, line[1:]...), t.line, true
	}
	var head struct {
		Step *int `json:"step"`
	}
	if json.Unmarshal(line, &head) != nil || head.Step == nil {
		return nil, 0, false
	}
	return append(json.RawMessage(nil), line...), *head.Step, true
}

// handleWS streams a run's events: first those after ?from=STEP already written, then each
// new one as it is written, one JSON text message each.
func (s *Server) handleWS(w http.ResponseWriter, r *http.Request) {
	run, err := s.runs.get(r.PathValue("id"), false)
	if err != nil {
		s.apiError(w, err)
		return
	}
	from, err := fromStep(r)
	if err != nil {
		s.apiError(w, err)
		return
	}
	conn, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	defer conn.Close()
	s.streams.Add(1)
	defer s.streams.Add(-1)
	dir := filepath.Join(s.runs.dir, run.ID)
	name := eventsFile(run.Kind)

	// The reader goroutine only handles control frames and notices the client leaving.
	gone := make(chan struct{})
	conn.SetReadLimit(1 << 10)
	conn.SetReadDeadline(time.Now().Add(pongWait))
	conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(pongWait)) })
	go func() {
		defer close(gone)
		for {
			if _, _, err := conn.NextReader(); err != nil {
				return
			}
		}
	}()

	// This goroutine is the connection's one writer: events, then pings.
	t := &tailer{path: filepath.Join(dir, name), kind: run.Kind}
	poll := time.NewTicker(pollInterval)
	defer poll.Stop()
	ping := time.NewTicker(pingInterval)
	defer ping.Stop()
	for {
		lines, err := t.next()
		if err != nil {
			conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseInternalServerErr, "reading events"), time.Now().Add(time.Second))
			return
		}
		for _, l := range lines {
			msg, step, ok := t.message(l)
			if !ok || step <= from {
				continue
			}
			conn.SetWriteDeadline(time.Now().Add(writeWait))
			if err := conn.WriteMessage(websocket.TextMessage, msg); err != nil {
				return
			}
			from = step
		}
		select {
		case <-gone:
			return
		case <-s.done:
			conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "server stopping"), time.Now().Add(time.Second))
			return
		case <-ping.C:
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				return
			}
		case <-poll.C:
		}
	}
}
