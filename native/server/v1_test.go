package server

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/openai"
	"github.com/aegis-safety/aegis/native/tokenizer"
)

// Conformance of /v1 with OpenAI's API (issue 19): error objects everywhere, required
// and bounded parameters, refused parameters, logprobs, text completions and CORS.

// do sends a request and returns the status, the headers and the body.
func do(t *testing.T, method, url, body string, header map[string]string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, b
}

// goNames are fragments of Go's own error texts that a client must never see.
var goNames = []string{"Go struct", "Go value", "unmarshal", "chatRequest", "openai.", "json:", "struct field", "[]", "int32", "float64", "*"}

// checkError requires body to be exactly OpenAI's error object, with a message free of
// Go's words, and returns its fields.
func checkError(t *testing.T, what string, hdr http.Header, body []byte) map[string]any {
	t.Helper()
	if ct := hdr.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: Content-Type %q, body %s", what, ct, body)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil || keys(m) != "error" {
		t.Errorf("%s: not an error object: %s", what, body)
		return nil
	}
	e, _ := m["error"].(map[string]any)
	if keys(e) != "code,message,param,type" {
		t.Errorf("%s: error fields %q: %s", what, keys(e), body)
		return e
	}
	msg, _ := e["message"].(string)
	typ, _ := e["type"].(string)
	if msg == "" || typ == "" {
		t.Errorf("%s: empty message or type: %s", what, body)
	}
	for _, g := range goNames {
		if strings.Contains(msg, g) {
			t.Errorf("%s: message %q shows %q", what, msg, g)
		}
	}
	return e
}

// TestV1ErrorObjects: every refusal under /v1 is OpenAI's error object: a missing or
// wrong token (401), an unknown route (404), a wrong method (405), a body too large (413),
// a foreign Host or Origin (403), malformed JSON and wrongly typed parameters (400), whose
// messages name the parameter and what it must be in JSON's terms, never Go's.
func TestV1ErrorObjects(t *testing.T) {
	cm := chatModel(t)
	_, ts := newServer(t, Options{Chat: cm, Token: "s3cret"})
	auth := map[string]string{"Authorization": "Bearer s3cret"}
	msgs := `"messages":[{"role":"user","content":"x"}]`
	for _, tc := range []struct {
		method, path, body string
		header             map[string]string
		code               int
		param, errCode     string
	}{
		{"GET", "/v1/models", "", nil, 401, "", "invalid_api_key"},
		{"POST", "/v1/chat/completions", `{"model":"tiny",` + msgs + `}`, map[string]string{"Authorization": "Bearer wrong"}, 401, "", "invalid_api_key"},
		{"POST", "/v1/completions", `{"model":"tiny","prompt":"x"}`, nil, 401, "", "invalid_api_key"},
		{"GET", "/v1/nope", "", auth, 404, "", "unknown_url"},
		{"POST", "/v1/embeddings", `{}`, auth, 404, "", "unknown_url"},
		{"GET", "/v1", "", auth, 404, "", "unknown_url"},
		{"GET", "/v1/chat/completions", "", auth, 405, "", "method_not_allowed"},
		{"DELETE", "/v1/completions", "", auth, 405, "", "method_not_allowed"},
		{"POST", "/v1/models", `{}`, auth, 405, "", "method_not_allowed"},
		{"PUT", "/v1/models/tiny", `{}`, auth, 405, "", "method_not_allowed"},
		{"GET", "/v1/models/nope", "", auth, 404, "model", "model_not_found"},
		{"POST", "/v1/chat/completions", `{"model":"tiny","messages":[{"role":"user","content":"` + strings.Repeat("x", 1<<20) + `"}]}`, auth, 413, "", "request_too_large"},
		{"POST", "/v1/completions", `{"model":"tiny","prompt":"` + strings.Repeat("x", 1<<20) + `"}`, auth, 413, "", "request_too_large"},
		{"POST", "/v1/chat/completions", `{"model":"tiny",` + msgs + `}`, map[string]string{"Authorization": "Bearer s3cret", "Origin": "https://evil.example"}, 403, "", "forbidden"},
		{"POST", "/v1/chat/completions", `not json`, auth, 400, "", ""},
		{"POST", "/v1/chat/completions", `{"model":"tiny",`, auth, 400, "", ""},
		{"POST", "/v1/chat/completions", ``, auth, 400, "", ""},
		{"POST", "/v1/chat/completions", `[1,2]`, auth, 400, "", "invalid_type"},
		{"POST", "/v1/chat/completions", `{"model":"tiny","messages":"hi"}`, auth, 400, "messages", "invalid_type"},
		{"POST", "/v1/chat/completions", `{"model":"tiny","messages":[]}`, auth, 400, "messages", "empty_array"},
		{"POST", "/v1/chat/completions", `{"model":"tiny","messages":["hi"]}`, auth, 400, "messages[0]", "invalid_type"},
		{"POST", "/v1/chat/completions", `{"model":"tiny","messages":[{"role":"user","content":7}]}`, auth, 400, "messages[0].content", "invalid_type"},
		{"POST", "/v1/chat/completions", `{"model":"tiny","messages":[{"role":3,"content":"x"}]}`, auth, 400, "messages[0].role", "invalid_type"},
		{"POST", "/v1/chat/completions", `{"model":"tiny","messages":[{"role":"tool","content":"x"}]}`, auth, 400, "messages[0].role", "invalid_value"},
		{"POST", "/v1/chat/completions", `{"model":7,` + msgs + `}`, auth, 400, "model", "invalid_type"},
		{"POST", "/v1/chat/completions", `{"model":"tiny",` + msgs + `,"max_tokens":"5"}`, auth, 400, "max_tokens", "invalid_type"},
		{"POST", "/v1/chat/completions", `{"model":"tiny",` + msgs + `,"max_tokens":1.5}`, auth, 400, "max_tokens", "invalid_type"},
		{"POST", "/v1/chat/completions", `{"model":"tiny",` + msgs + `,"temperature":"hot"}`, auth, 400, "temperature", "invalid_type"},
		{"POST", "/v1/chat/completions", `{"model":"tiny",` + msgs + `,"stream":"yes"}`, auth, 400, "stream", "invalid_type"},
		{"POST", "/v1/chat/completions", `{"model":"tiny",` + msgs + `,"n":[1]}`, auth, 400, "n", "invalid_type"},
		{"POST", "/v1/chat/completions", `{"model":"tiny",` + msgs + `,"seed":1e40}`, auth, 400, "seed", "invalid_type"},
		{"POST", "/v1/chat/completions", `{"model":"tiny",` + msgs + `,"stop":{"a":1}}`, auth, 400, "stop", "invalid_type"},
		{"POST", "/v1/chat/completions", `{"model":"tiny",` + msgs + `,"logprobs":1}`, auth, 400, "logprobs", "invalid_type"},
		{"POST", "/v1/chat/completions", `{"model":"tiny",` + msgs + `,"stream":true,"stream_options":{"include_usage":"y"}}`, auth, 400, "stream_options.include_usage", "invalid_type"},
		{"POST", "/v1/completions", `{"model":"tiny","prompt":5}`, auth, 400, "prompt", "invalid_type"},
		{"POST", "/v1/completions", `{"model":"tiny","prompt":[[1,"a"]]}`, auth, 400, "prompt", "invalid_type"},
		{"POST", "/v1/completions", `{"model":"tiny","prompt":"x","echo":"no"}`, auth, 400, "echo", "invalid_type"},
		{"POST", "/v1/completions", `{"model":"tiny","prompt":"x","logprobs":true}`, auth, 400, "logprobs", "invalid_type"},
	} {
		what := tc.method + " " + tc.path + " " + tc.body
		if len(what) > 110 {
			what = what[:110]
		}
		code, hdr, body := do(t, tc.method, ts.URL+tc.path, tc.body, tc.header)
		if code != tc.code {
			t.Errorf("%s: %d %.200s, want %d", what, code, body, tc.code)
			continue
		}
		e := checkError(t, what, hdr, body)
		if e == nil {
			continue
		}
		if p, _ := e["param"].(string); p != tc.param {
			t.Errorf("%s: param %v, want %q (%s)", what, e["param"], tc.param, e["message"])
		}
		if c, _ := e["code"].(string); c != tc.errCode {
			t.Errorf("%s: code %v, want %q (%s)", what, e["code"], tc.errCode, e["message"])
		}
		if tc.code == 405 && hdr.Get("Allow") == "" {
			t.Errorf("%s: 405 without Allow", what)
		}
		if tc.code == 401 && hdr.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", what)
		}
	}
	// A type error names the parameter and the JSON types, as in
	// "Invalid type for 'messages[0].role': expected a string, but got a number instead."
	_, hdr, body := do(t, "POST", ts.URL+"/v1/chat/completions", `{"model":"tiny","messages":[{"role":3,"content":"x"}]}`, auth)
	if e := checkError(t, "role", hdr, body); e["message"] != "Invalid type for 'messages[0].role': expected a string, but got a number instead." {
		t.Errorf("type error message %q", e["message"])
	}
	_, hdr, body = do(t, "POST", ts.URL+"/v1/chat/completions", `{"model":"tiny","messages":[{"role":"user","content":7}]}`, auth)
	if e := checkError(t, "content", hdr, body); e["message"] != "Invalid type for 'messages[0].content': expected a string or an array of content parts, but got a number instead." {
		t.Errorf("type error message %q", e["message"])
	}

	// Without a token, a foreign Host is refused the same way (DNS rebinding).
	_, ts2 := newServer(t, Options{Chat: cm})
	code, hdr, body := do(t, "GET", ts2.URL+"/v1/models", "", map[string]string{"Host": "evil.example"})
	if e := checkError(t, "foreign host", hdr, body); code != 403 || e == nil {
		t.Errorf("foreign host: %d %s", code, body)
	}
	// The monitor's own routes keep their plain answers.
	if code, hdr, _ := do(t, "GET", ts2.URL+"/api/nope", "", nil); code != 404 || strings.Contains(hdr.Get("Content-Type"), "json") {
		t.Errorf("/api/nope: %d %s", code, hdr.Get("Content-Type"))
	}
}

// TestV1RequiredAndBounded: model is required; max_tokens and max_completion_tokens
// above the server's limit, or beyond the model's context after the prompt, are refused
// rather than cut down; left out, the answer may run to the limit or the context.
func TestV1RequiredAndBounded(t *testing.T) {
	cm := chatModel(t) // context 128
	cm.MaxTokens = 200
	_, ts := newServer(t, Options{Chat: cm})
	ids, _, _ := cm.Tok.EncodeChat([]tokenizer.Message{{Role: "user", Content: "hello fox"}}, tokenizer.ChatOptions{AddGenerationPrompt: true})
	room := 128 - len(ids)
	msgs := `"messages":[{"role":"user","content":"hello fox"}]`
	itoa := func(n int) string { b, _ := json.Marshal(n); return string(b) }
	pids := cm.Tok.Encode("the lazy dog", true)
	for _, tc := range []struct {
		path, body   string
		code         int
		param, code2 string
	}{
		{"/v1/chat/completions", `{` + msgs + `}`, 400, "model", "missing_required_parameter"},
		{"/v1/chat/completions", `{"model":"",` + msgs + `}`, 400, "model", "missing_required_parameter"},
		{"/v1/chat/completions", `{"model":null,` + msgs + `}`, 400, "model", "missing_required_parameter"},
		{"/v1/chat/completions", `{"model":"tiny"}`, 400, "messages", "missing_required_parameter"},
		{"/v1/chat/completions", `{"model":"tiny","messages":[{"content":"x"}]}`, 400, "messages[0].role", "missing_required_parameter"},
		{"/v1/chat/completions", `{"model":"tiny","messages":[{"role":"user"}]}`, 400, "messages[0].content", "missing_required_parameter"},
		{"/v1/chat/completions", `{"model":"tiny",` + msgs + `,"max_tokens":201}`, 400, "max_tokens", "invalid_value"},
		{"/v1/chat/completions", `{"model":"tiny",` + msgs + `,"max_completion_tokens":201}`, 400, "max_completion_tokens", "invalid_value"},
		{"/v1/chat/completions", `{"model":"tiny",` + msgs + `,"max_tokens":` + itoa(room+1) + `}`, 400, "max_tokens", "context_length_exceeded"},
		{"/v1/chat/completions", `{"model":"tiny",` + msgs + `,"max_completion_tokens":` + itoa(room+1) + `}`, 400, "max_completion_tokens", "context_length_exceeded"},
		{"/v1/chat/completions", `{"model":"tiny",` + msgs + `,"max_tokens":3,"max_completion_tokens":4}`, 400, "max_completion_tokens", ""},
		{"/v1/chat/completions", `{"model":"tiny",` + msgs + `,"max_tokens":0}`, 400, "max_tokens", "invalid_value"},
		{"/v1/chat/completions", `{"model":"tiny","messages":[{"role":"user","content":"` + strings.Repeat("fox ", 200) + `"}]}`, 400, "messages", "context_length_exceeded"},
		{"/v1/chat/completions", `{"model":"tiny",` + msgs + `,"max_tokens":` + itoa(room) + `}`, 200, "", ""},
		{"/v1/chat/completions", `{"model":"tiny",` + msgs + `,"max_tokens":3,"max_completion_tokens":3}`, 200, "", ""},
		{"/v1/completions", `{"prompt":"x"}`, 400, "model", "missing_required_parameter"},
		{"/v1/completions", `{"model":"tiny"}`, 400, "prompt", "missing_required_parameter"},
		{"/v1/completions", `{"model":"tiny","prompt":"the lazy dog","max_tokens":201}`, 400, "max_tokens", "invalid_value"},
		{"/v1/completions", `{"model":"tiny","prompt":"the lazy dog","max_tokens":` + itoa(128-len(pids)+1) + `}`, 400, "max_tokens", "context_length_exceeded"},
		{"/v1/completions", `{"model":"tiny","prompt":["x","the lazy dog"],"max_tokens":` + itoa(128-len(pids)+1) + `}`, 400, "max_tokens", "context_length_exceeded"},
		{"/v1/completions", `{"model":"tiny","prompt":"the lazy dog","max_tokens":` + itoa(128-len(pids)) + `}`, 200, "", ""},
		{"/v1/completions", `{"model":"tiny","prompt":"x","max_tokens":0}`, 400, "max_tokens", "invalid_value"},
		{"/v1/completions", `{"model":"tiny","prompt":"x","max_tokens":0,"echo":true}`, 200, "", ""},
	} {
		code, hdr, body := do(t, "POST", ts.URL+tc.path, tc.body, nil)
		what := tc.path + " " + tc.body
		if len(what) > 120 {
			what = what[:120]
		}
		if code != tc.code {
			t.Errorf("%s: %d %.300s, want %d", what, code, body, tc.code)
			continue
		}
		if code == 200 {
			continue
		}
		e := checkError(t, what, hdr, body)
		if p, _ := e["param"].(string); p != tc.param {
			t.Errorf("%s: param %v, want %q (%s)", what, e["param"], tc.param, e["message"])
		}
		if c, _ := e["code"].(string); c != tc.code2 {
			t.Errorf("%s: code %v, want %q (%s)", what, e["code"], tc.code2, e["message"])
		}
	}
	// Without max_tokens the answer may fill the context: it is not refused, and it stops
	// at the context's end at the latest.
	code, m := chat(t, ts.URL, `{"model":"tiny",`+msgs+`}`)
	if code != 200 || m["usage"].(map[string]any)["completion_tokens"].(float64) > float64(room) {
		t.Fatalf("no max_tokens: %d %v", code, m)
	}
	// The context error says how many tokens were asked for and the context's size.
	_, _, body := do(t, "POST", ts.URL+"/v1/chat/completions", `{"model":"tiny",`+msgs+`,"max_tokens":`+itoa(room+1)+`}`, nil)
	if !bytes.Contains(body, []byte("maximum context length is 128 tokens")) || !bytes.Contains(body, []byte("you requested 129 tokens")) {
		t.Errorf("context error: %s", body)
	}
}

// TestV1RefusedParameters: parameters the server does not implement are refused with a
// 400 naming them, wherever they are; those it implements keep working, and the
// repetition penalties and best_of are accepted at their defaults (what promptfoo sends).
func TestV1RefusedParameters(t *testing.T) {
	cm := chatModel(t)
	_, ts := newServer(t, Options{Chat: cm})
	chatBase := `{"model":"tiny","messages":[{"role":"user","content":"hi"}],"max_tokens":2`
	cmplBase := `{"model":"tiny","prompt":"hi","max_tokens":2`
	for _, tc := range []struct {
		path, extra string
		param       string // "" for 200
	}{
		{"/v1/chat/completions", `,"tools":[{"type":"function","function":{"name":"f"}}]`, "tools"},
		{"/v1/chat/completions", `,"tool_choice":"auto"`, "tool_choice"},
		{"/v1/chat/completions", `,"response_format":{"type":"json_object"}`, "response_format"},
		{"/v1/chat/completions", `,"functions":[{"name":"f"}]`, "functions"},
		{"/v1/chat/completions", `,"function_call":"auto"`, "function_call"},
		{"/v1/chat/completions", `,"logit_bias":{"5":10}`, "logit_bias"},
		{"/v1/chat/completions", `,"user":"u1"`, "user"},
		{"/v1/chat/completions", `,"parallel_tool_calls":false`, "parallel_tool_calls"},
		{"/v1/chat/completions", `,"temprature":0.5`, "temprature"},
		{"/v1/chat/completions", `,"presence_penalty":0.5`, "presence_penalty"},
		{"/v1/chat/completions", `,"frequency_penalty":-1`, "frequency_penalty"},
		{"/v1/chat/completions", `,"stream_options":{"include_usage":true}`, "stream_options"},
		{"/v1/chat/completions", `,"stream":true,"stream_options":{"include_usage":true,"continuous_usage_stats":true}`, "stream_options.continuous_usage_stats"},
		{"/v1/chat/completions", `,"messages":[{"role":"user","content":"hi","name":"bob"}]`, "messages[0].name"},
		{"/v1/chat/completions", `,"messages":[{"role":"assistant","content":"hi","tool_calls":[]},{"role":"user","content":"x"}]`, "messages[0].tool_calls"},
		{"/v1/chat/completions", `,"tools":null,"presence_penalty":0,"frequency_penalty":0,"logprobs":false`, ""},
		{"/v1/chat/completions", `,"messages":[{"role":"assistant","content":"hi","refusal":null},{"role":"user","content":"x"}]`, ""},
		{"/v1/completions", `,"suffix":"end"`, "suffix"},
		{"/v1/completions", `,"best_of":2`, "best_of"},
		{"/v1/completions", `,"logit_bias":{}`, "logit_bias"},
		{"/v1/completions", `,"messages":[]`, "messages"},
		{"/v1/completions", `,"presence_penalty":0,"frequency_penalty":0,"best_of":1,"top_p":1,"stop":["\n"],"seed":3,"echo":false,"logprobs":null`, ""},
	} {
		body := chatBase
		if tc.path == "/v1/completions" {
			body = cmplBase
		}
		body += tc.extra + "}"
		code, hdr, b := do(t, "POST", ts.URL+tc.path, body, nil)
		if tc.param == "" {
			if code != 200 {
				t.Errorf("%s %s: %d %s", tc.path, tc.extra, code, b)
			}
			continue
		}
		if code != 400 {
			t.Errorf("%s %s: %d %.200s, want 400", tc.path, tc.extra, code, b)
			continue
		}
		e := checkError(t, tc.extra, hdr, b)
		if e["param"] != tc.param || !strings.Contains(e["message"].(string), "'"+tc.param+"'") {
			t.Errorf("%s %s: %v, want param %q named in the message", tc.path, tc.extra, e, tc.param)
		}
	}
}

// genIDs is cm's own continuation of ids (the stop id cut off).
func genIDs(t *testing.T, cm *ChatModel, ids []int32, maxNew int, samp model.Sampling, seed uint64) []int32 {
	t.Helper()
	gen, err := cm.Model.Generate(ids, model.GenerateOptions{MaxNewTokens: maxNew, Sampling: samp, Seed: seed, StopIDs: cm.StopIDs})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(gen); n > 0 && slices.Contains(cm.StopIDs, gen[n-1]) {
		gen = gen[:n-1]
	}
	return gen
}

// logSoftmax is the log-softmax, in float64, of each position's logits from one direct
// forward pass of the model over ids: row t scores the token after ids[t].
func logSoftmax(t *testing.T, cm *ChatModel, ids []int32) [][]float64 {
	t.Helper()
	logits, err := cm.Model.Forward(&model.Batch{B: 1, T: len(ids), IDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	V := cm.Model.Config.VocabSize
	rows := make([][]float64, len(ids))
	for p := range ids {
		l := logits[p*V : (p+1)*V]
		mx := math.Inf(-1)
		for _, x := range l {
			mx = max(mx, float64(x))
		}
		var s float64
		for _, x := range l {
			s += math.Exp(float64(x) - mx)
		}
		rows[p] = make([]float64, V)
		for v, x := range l {
			rows[p][v] = float64(x) - mx - math.Log(s)
		}
	}
	return rows
}

// topIDs are the k most likely ids of a row, most likely first.
func topIDs(row []float64, k int) []int32 {
	ids := make([]int32, len(row))
	for i := range ids {
		ids[i] = int32(i)
	}
	sort.SliceStable(ids, func(a, b int) bool { return row[ids[a]] > row[ids[b]] })
	return ids[:k]
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-4 }

// wireLogprob is a chat logprobs entry as a client decodes it.
type wireLogprob struct {
	Token       string  `json:"token"`
	Logprob     float64 `json:"logprob"`
	Bytes       []int   `json:"bytes"`
	TopLogprobs []struct {
		Token   string  `json:"token"`
		Logprob float64 `json:"logprob"`
		Bytes   []int   `json:"bytes"`
	} `json:"top_logprobs"`
}

func joinBytes(b []int) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		out[i] = byte(c)
	}
	return out
}

// checkChatLogprobs compares an answer's logprobs with a direct forward pass over the
// prompt and the generated tokens: each token's log-probability, its bytes and the top
// tokens at its position, to 1e-4.
func checkChatLogprobs(t *testing.T, what string, cm *ChatModel, prompt, gen []int32, content string, lps []wireLogprob, top int) {
	t.Helper()
	if len(lps) != len(gen) {
		t.Fatalf("%s: %d logprobs for %d tokens", what, len(lps), len(gen))
	}
	rows := logSoftmax(t, cm, append(slices.Clone(prompt), gen...))
	var joined []byte
	for k, tok := range gen {
		row, lp := rows[len(prompt)-1+k], lps[k]
		b := cm.Tok.TokenBytes(tok, k == 0)
		joined = append(joined, joinBytes(lp.Bytes)...)
		if !near(lp.Logprob, row[tok]) || !bytes.Equal(joinBytes(lp.Bytes), b) || lp.Token != tokenText(b) {
			t.Fatalf("%s token %d: %+v, want id %d (%q) logprob %.6f", what, k, lp, tok, b, row[tok])
		}
		if len(lp.TopLogprobs) != top {
			t.Fatalf("%s token %d: %d top logprobs, want %d", what, k, len(lp.TopLogprobs), top)
		}
		for i, id := range topIDs(row, top) {
			tl := lp.TopLogprobs[i]
			if tb := cm.Tok.TokenBytes(id, k == 0); !near(tl.Logprob, row[id]) || !bytes.Equal(joinBytes(tl.Bytes), tb) || tl.Token != tokenText(tb) {
				t.Fatalf("%s token %d top %d: %+v, want id %d (%q) logprob %.6f", what, k, i, tl, id, tb, row[id])
			}
		}
	}
	// The content is the bytes' text (an invalid byte as U+FFFD): equal up to the first.
	valid := len(joined)
	for i := 0; i < len(joined); {
		r, n := utf8.DecodeRune(joined[i:])
		if r == utf8.RuneError && n <= 1 {
			valid = i
			break
		}
		i += n
	}
	if !strings.HasPrefix(content, string(joined[:valid])) || valid == len(joined) && content != string(joined) {
		t.Fatalf("%s: token bytes join to %q, content %q", what, joined, content)
	}
}

// TestV1ChatLogprobs: logprobs and top_logprobs, plain and streamed, are the model's own
// log-softmax at each generated position (before temperature), as a direct forward pass
// gives them, shaped as OpenAI's choices[].logprobs.content[].
func TestV1ChatLogprobs(t *testing.T) {
	cm := chatModel(t)
	_, ts := newServer(t, Options{Chat: cm})
	prompt, _, _ := cm.Tok.EncodeChat([]tokenizer.Message{{Role: "user", Content: "hello fox"}}, tokenizer.ChatOptions{AddGenerationPrompt: true})
	type choice struct {
		Message struct {
			Content string `json:"content"`
		} `json:"message"`
		Logprobs *struct {
			Content []wireLogprob   `json:"content"`
			Refusal json.RawMessage `json:"refusal"`
		} `json:"logprobs"`
	}
	ask := func(body string) []choice {
		t.Helper()
		res := post(t, ts.URL+"/v1/chat/completions", body)
		var out struct{ Choices []choice }
		if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != 200 {
			t.Fatalf("%s: %d %v", body, res.StatusCode, err)
		}
		return out.Choices
	}
	base := `{"model":"tiny","messages":[{"role":"user","content":"hello fox"}],"max_tokens":16`

	// Greedy, with the 5 most likely tokens.
	gen := genIDs(t, cm, prompt, 16, model.Sampling{}, 0)
	cs := ask(base + `,"logprobs":true,"top_logprobs":5}`)
	if cs[0].Logprobs == nil || string(cs[0].Logprobs.Refusal) != "null" {
		t.Fatalf("logprobs %+v", cs[0].Logprobs)
	}
	checkChatLogprobs(t, "greedy", cm, prompt, gen, cs[0].Message.Content, cs[0].Logprobs.Content, 5)
	for k, lp := range cs[0].Logprobs.Content { // greedy: the chosen token is the most likely
		if lp.TopLogprobs[0].Token != lp.Token || lp.TopLogprobs[0].Logprob != lp.Logprob {
			t.Fatalf("greedy token %d is not the top one: %+v", k, lp)
		}
	}
	// logprobs alone: top_logprobs is an empty list; top_logprobs 20 is the most.
	cs = ask(base + `,"logprobs":true}`)
	checkChatLogprobs(t, "no top", cm, prompt, gen, cs[0].Message.Content, cs[0].Logprobs.Content, 0)
	cs = ask(base + `,"logprobs":true,"top_logprobs":20}`)
	checkChatLogprobs(t, "top 20", cm, prompt, gen, cs[0].Message.Content, cs[0].Logprobs.Content, 20)

	// Sampled at temperature 1.5 with a seed, two choices: the log-probabilities are the
	// raw model's, not the tempered distribution's.
	cs = ask(base + `,"logprobs":true,"top_logprobs":3,"temperature":1.5,"seed":11,"n":2}`)
	for i, c := range cs {
		g := genIDs(t, cm, prompt, 16, model.Sampling{Temperature: 1.5}, uint64(11+i))
		checkChatLogprobs(t, "sampled", cm, prompt, g, c.Message.Content, c.Logprobs.Content, 3)
	}

	// Streamed: each content chunk carries the logprobs of its tokens; together they are
	// the same as the plain answer's; the role and finish chunks have null logprobs.
	plain := ask(base + `,"logprobs":true,"top_logprobs":4,"temperature":1,"seed":5}`)[0]
	var streamed []wireLogprob
	var text strings.Builder
	chunks := sse(t, ts.URL, base+`,"logprobs":true,"top_logprobs":4,"temperature":1,"seed":5,"stream":true}`)
	for i, ch := range chunks {
		cc := ch["choices"].([]any)[0].(map[string]any)
		lp, has := cc["logprobs"]
		if !has {
			t.Fatalf("chunk %d has no logprobs field", i)
		}
		d := cc["delta"].(map[string]any)
		if i == 0 || i == len(chunks)-1 {
			if lp != nil {
				t.Fatalf("chunk %d: logprobs %v", i, lp)
			}
			continue
		}
		b, _ := json.Marshal(lp)
		var part struct{ Content []wireLogprob }
		json.Unmarshal(b, &part)
		streamed = append(streamed, part.Content...)
		text.WriteString(d["content"].(string))
	}
	pb, _ := json.Marshal(plain.Logprobs.Content)
	sb, _ := json.Marshal(streamed)
	if text.String() != plain.Message.Content || !bytes.Equal(pb, sb) {
		t.Fatalf("streamed %q with\n%s\nplain %q with\n%s", text.String(), sb, plain.Message.Content, pb)
	}

	// With a stop sequence, the tokens are those whose text begins before the cut.
	full := ask(base + `}`)[0].Message.Content
	r := []rune(full)
	if len(r) < 6 {
		t.Fatalf("answer %q too short", full)
	}
	stop := string(r[3:5])
	stopJSON, _ := json.Marshal(stop)
	cs = ask(base + `,"logprobs":true,"stop":` + string(stopJSON) + `}`)
	cut := cs[0].Message.Content
	var joined []byte
	for _, lp := range cs[0].Logprobs.Content {
		joined = append(joined, joinBytes(lp.Bytes)...)
	}
	if n := len(cs[0].Logprobs.Content); !bytes.HasPrefix(joined, []byte(cut)) || n == 0 ||
		len(joined)-len(cs[0].Logprobs.Content[n-1].Bytes) >= len(cut) && len(cut) > 0 {
		t.Fatalf("stop %q: content %q, tokens join to %q", stop, cut, joined)
	}

	// Streamed with the stop sequence: the same text and tokens.
	var stoks []wireLogprob
	text.Reset()
	for _, ch := range sse(t, ts.URL, base+`,"logprobs":true,"stream":true,"stop":`+string(stopJSON)+`}`) {
		cc := ch["choices"].([]any)[0].(map[string]any)
		if c, ok := cc["delta"].(map[string]any)["content"].(string); ok {
			text.WriteString(c)
		}
		if lp, ok := cc["logprobs"].(map[string]any); ok {
			b, _ := json.Marshal(lp)
			var part struct{ Content []wireLogprob }
			json.Unmarshal(b, &part)
			stoks = append(stoks, part.Content...)
		}
	}
	pb, _ = json.Marshal(cs[0].Logprobs.Content)
	sb, _ = json.Marshal(stoks)
	if text.String() != cut || !bytes.Equal(pb, sb) {
		t.Fatalf("streamed with stop: %q with\n%s\nplain %q with\n%s", text.String(), sb, cut, pb)
	}

	// Without logprobs, null; bad values are refused.
	if cs := ask(base + `}`); cs[0].Logprobs != nil {
		t.Fatalf("logprobs without asking: %+v", cs[0].Logprobs)
	}
	for _, extra := range []string{`,"top_logprobs":2}`, `,"logprobs":false,"top_logprobs":2}`, `,"logprobs":true,"top_logprobs":21}`, `,"logprobs":true,"top_logprobs":-1}`} {
		code, hdr, b := do(t, "POST", ts.URL+"/v1/chat/completions", base+extra, nil)
		if e := checkError(t, extra, hdr, b); code != 400 || e["param"] != "top_logprobs" {
			t.Errorf("%s: %d %s", extra, code, b)
		}
	}
}

// completionOf is cm's own text completion of a prompt: the tokens and their text as it
// continues the prompt's.
func completionOf(t *testing.T, cm *ChatModel, prompt []int32, maxNew int, samp model.Sampling, seed uint64) ([]int32, string) {
	t.Helper()
	gen := genIDs(t, cm, prompt, maxNew, samp, seed)
	before := cm.Tok.Decode(prompt, true)
	after := cm.Tok.Decode(append(slices.Clone(prompt), gen...), true)
	if !strings.HasPrefix(after, before) {
		t.Fatalf("decoding %v does not extend %q", gen, before)
	}
	return gen, after[len(before):]
}

// TestV1Completions: POST /v1/completions answers a prompt string, a list of them, token
// ids and lists of token ids, n completions each, as the model itself continues the
// prompt; echo, stop, streaming with usage, and logprobs as OpenAI's legacy API shapes
// them (token_logprobs null for an echoed prompt's first token, top_logprobs holding the
// chosen token), checked against a direct forward pass: the request
// lm-evaluation-harness's local-completions sends to score a continuation.
func TestV1Completions(t *testing.T) {
	cm := chatModel(t)
	cm.Created = 1700000000
	_, ts := newServer(t, Options{Chat: cm})
	type choice struct {
		Index    int     `json:"index"`
		Text     string  `json:"text"`
		Finish   *string `json:"finish_reason"`
		Logprobs *struct {
			Tokens        []string             `json:"tokens"`
			TokenLogprobs []*float64           `json:"token_logprobs"`
			TopLogprobs   []map[string]float64 `json:"top_logprobs"`
			TextOffset    []int                `json:"text_offset"`
		} `json:"logprobs"`
	}
	type response struct {
		ID      string   `json:"id"`
		Object  string   `json:"object"`
		Created int64    `json:"created"`
		Model   string   `json:"model"`
		Choices []choice `json:"choices"`
		Usage   struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
			TotalTokens      int `json:"total_tokens"`
		} `json:"usage"`
	}
	ask := func(body string) response {
		t.Helper()
		res := post(t, ts.URL+"/v1/completions", body)
		raw, _ := io.ReadAll(res.Body)
		var out response
		if err := json.Unmarshal(raw, &out); err != nil || res.StatusCode != 200 {
			t.Fatalf("%s: %d %s", body, res.StatusCode, raw)
		}
		var m map[string]any
		json.Unmarshal(raw, &m)
		if keys(m) != "choices,created,id,model,object,usage" || !strings.HasPrefix(out.ID, "cmpl-") || out.Object != "text_completion" || out.Model != "tiny" {
			t.Fatalf("%s: %s", body, raw)
		}
		for _, c := range m["choices"].([]any) {
			if keys(c.(map[string]any)) != "finish_reason,index,logprobs,text" {
				t.Fatalf("choice %v", c)
			}
		}
		return out
	}
	p1, p2 := "the lazy dog", "hello world"
	ids1, ids2 := cm.Tok.Encode(p1, true), cm.Tok.Encode(p2, true)

	// One prompt, greedy, with the default of 16 tokens.
	gen1, text1 := completionOf(t, cm, ids1, 16, model.Sampling{}, 0)
	out := ask(`{"model":"tiny","prompt":"the lazy dog"}`)
	if c := out.Choices[0]; len(out.Choices) != 1 || c.Text != text1 || c.Logprobs != nil || c.Finish == nil ||
		out.Usage.PromptTokens != len(ids1) || out.Usage.CompletionTokens != len(gen1) || out.Usage.TotalTokens != len(ids1)+len(gen1) {
		t.Fatalf("%+v, want text %q after %d+%d tokens", out, text1, len(ids1), len(gen1))
	}
	// Token ids give the same; a list of prompts, n each, in prompt-major order, each
	// completion with its own seed.
	if out := ask(`{"model":"tiny","prompt":` + string(must(json.Marshal(ids1))) + `}`); out.Choices[0].Text != text1 {
		t.Fatalf("token prompt: %q, want %q", out.Choices[0].Text, text1)
	}
	out = ask(`{"model":"tiny","prompt":["the lazy dog","hello world"],"n":2,"max_tokens":6,"temperature":1,"seed":3}`)
	if len(out.Choices) != 4 || out.Usage.PromptTokens != len(ids1)+len(ids2) {
		t.Fatalf("%+v", out)
	}
	for i, c := range out.Choices {
		ids := [][]int32{ids1, ids2}[i/2]
		if _, want := completionOf(t, cm, ids, 6, model.Sampling{Temperature: 1}, uint64(3+i)); c.Index != i || c.Text != want {
			t.Errorf("choice %d: %q, want %q", i, c.Text, want)
		}
	}
	if out := ask(`{"model":"tiny","prompt":[` + string(must(json.Marshal(ids1))) + `,` + string(must(json.Marshal(ids2))) + `],"max_tokens":4}`); len(out.Choices) != 2 {
		t.Fatalf("%+v", out)
	}

	// echo, stop.
	out = ask(`{"model":"tiny","prompt":"the lazy dog","echo":true}`)
	if out.Choices[0].Text != p1+text1 {
		t.Fatalf("echo: %q, want %q", out.Choices[0].Text, p1+text1)
	}
	if r := []rune(text1); len(r) > 4 {
		stop := string(r[2:4])
		out = ask(`{"model":"tiny","prompt":"the lazy dog","stop":` + string(must(json.Marshal(stop))) + `}`)
		if want := text1[:strings.Index(text1, stop)]; out.Choices[0].Text != want || *out.Choices[0].Finish != "stop" {
			t.Fatalf("stop %q: %q (%s), want %q", stop, out.Choices[0].Text, *out.Choices[0].Finish, want)
		}
	}

	// lm-evaluation-harness's loglikelihood request: echo, max_tokens 1, logprobs 1. The
	// prompt's log-probabilities are the forward pass's, the first null.
	out = ask(`{"model":"tiny","prompt":"the lazy dog","temperature":0,"max_tokens":1,"logprobs":1,"seed":1234,"echo":true}`)
	lp := out.Choices[0].Logprobs
	all := append(slices.Clone(ids1), gen1[0])
	rows := logSoftmax(t, cm, all)
	if lp == nil || len(lp.Tokens) != len(all) || len(lp.TokenLogprobs) != len(all) || len(lp.TopLogprobs) != len(all) || len(lp.TextOffset) != len(all) {
		t.Fatalf("logprobs %+v for %d tokens", lp, len(all))
	}
	if lp.TokenLogprobs[0] != nil || lp.TopLogprobs[0] != nil || lp.TextOffset[0] != 0 {
		t.Fatalf("first token: %v %v %v", lp.TokenLogprobs[0], lp.TopLogprobs[0], lp.TextOffset[0])
	}
	var joined []byte
	for i, id := range all {
		b := cm.Tok.TokenBytes(id, i == 0)
		joined = append(joined, b...)
		if lp.Tokens[i] != tokenText(b) {
			t.Fatalf("token %d: %q, want %q", i, lp.Tokens[i], tokenText(b))
		}
		if i == 0 {
			continue
		}
		row := rows[i-1]
		if !near(*lp.TokenLogprobs[i], row[id]) {
			t.Fatalf("token %d: logprob %v, forward %v", i, *lp.TokenLogprobs[i], row[id])
		}
		top := topIDs(row, 1)[0]
		want := map[string]float64{tokenText(cm.Tok.TokenBytes(top, false)): row[top], lp.Tokens[i]: row[id]}
		if len(lp.TopLogprobs[i]) != len(want) {
			t.Fatalf("token %d: top %v, want %v", i, lp.TopLogprobs[i], want)
		}
		for k, v := range want {
			if !near(lp.TopLogprobs[i][k], v) {
				t.Fatalf("token %d: top %v, want %v", i, lp.TopLogprobs[i], want)
			}
		}
		if lp.TextOffset[i] < lp.TextOffset[i-1] {
			t.Fatalf("text offsets %v", lp.TextOffset)
		}
	}
	if string(joined) != out.Choices[0].Text {
		t.Fatalf("tokens join to %q, text %q", joined, out.Choices[0].Text)
	}
	// Scoring without generating: max_tokens 0 with echo.
	out = ask(`{"model":"tiny","prompt":"the lazy dog","max_tokens":0,"logprobs":0,"echo":true}`)
	if c := out.Choices[0]; c.Text != p1 || len(c.Logprobs.Tokens) != len(ids1) || !near(*c.Logprobs.TokenLogprobs[1], rows[0][ids1[1]]) || len(c.Logprobs.TopLogprobs[1]) != 1 {
		t.Fatalf("max_tokens 0: %+v", c)
	}
	// Generated tokens' logprobs, sampled: the raw model's.
	gen, text := completionOf(t, cm, ids1, 8, model.Sampling{Temperature: 1}, 9)
	out = ask(`{"model":"tiny","prompt":"the lazy dog","max_tokens":8,"temperature":1,"seed":9,"logprobs":3}`)
	lp = out.Choices[0].Logprobs
	rows = logSoftmax(t, cm, append(slices.Clone(ids1), gen...))
	if out.Choices[0].Text != text || len(lp.Tokens) != len(gen) {
		t.Fatalf("sampled: %q %+v, want %q", out.Choices[0].Text, lp, text)
	}
	for k, id := range gen {
		if row := rows[len(ids1)-1+k]; !near(*lp.TokenLogprobs[k], row[id]) || len(lp.TopLogprobs[k]) < 3 {
			t.Fatalf("sampled token %d: %v %v, forward %v", k, *lp.TokenLogprobs[k], lp.TopLogprobs[k], row[id])
		}
	}

	// Streamed: the echo first, then pieces adding up to the same text and logprobs, a
	// finish chunk, a usage chunk and [DONE].
	body := `{"model":"tiny","prompt":"the lazy dog","max_tokens":8,"temperature":1,"seed":9,"logprobs":3,"echo":true,"stream":true,"stream_options":{"include_usage":true}}`
	plain := ask(strings.Replace(body, `"stream":true,"stream_options":{"include_usage":true}`, `"stream":false`, 1))
	res := post(t, ts.URL+"/v1/completions", body)
	var streamed strings.Builder
	var toks []string
	var lps []float64
	var finish string
	var usage map[string]any
	for _, ch := range readSSE(t, res) {
		if u, ok := ch["usage"].(map[string]any); ok {
			usage = u
			continue
		}
		c := ch["choices"].([]any)[0].(map[string]any)
		streamed.WriteString(c["text"].(string))
		if l, ok := c["logprobs"].(map[string]any); ok {
			for i, tk := range l["tokens"].([]any) {
				toks = append(toks, tk.(string))
				if v, ok := l["token_logprobs"].([]any)[i].(float64); ok {
					lps = append(lps, v)
				}
			}
		}
		if f, ok := c["finish_reason"].(string); ok {
			finish = f
		}
	}
	pl := plain.Choices[0].Logprobs
	if streamed.String() != plain.Choices[0].Text || !slices.Equal(toks, pl.Tokens) || len(lps) != len(pl.Tokens)-1 || finish != *plain.Choices[0].Finish ||
		usage == nil || usage["total_tokens"] != float64(plain.Usage.TotalTokens) {
		t.Fatalf("streamed %q %v %v (%s, usage %v), plain %q %v", streamed.String(), toks, lps, finish, usage, plain.Choices[0].Text, pl.Tokens)
	}
	for i := range lps {
		if !near(lps[i], *pl.TokenLogprobs[i+1]) {
			t.Fatalf("streamed logprob %d: %v, plain %v", i, lps[i], *pl.TokenLogprobs[i+1])
		}
	}

	// Refusals.
	for _, tc := range []struct{ body, param string }{
		{`{"model":"tiny","prompt":[]}`, "prompt"},
		{`{"model":"tiny","prompt":[[]]}`, "prompt"},
		{`{"model":"tiny","prompt":[99999]}`, "prompt"},
		{`{"model":"tiny","prompt":"x","logprobs":6}`, "logprobs"},
		{`{"model":"tiny","prompt":"x","n":9}`, "n"},
		{`{"model":"tiny","prompt":["a","b","c","d","e","f","g","h","i"],"n":8}`, "n"},
		{`{"model":"other","prompt":"x"}`, "model"},
	} {
		code, hdr, b := do(t, "POST", ts.URL+"/v1/completions", tc.body, nil)
		if e := checkError(t, tc.body, hdr, b); (code != 400 && code != 404) || e["param"] != tc.param {
			t.Errorf("%s: %d %s", tc.body, code, b)
		}
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// readSSE reads a stream's data payloads up to [DONE] (which must come).
func readSSE(t *testing.T, res *http.Response) []map[string]any {
	t.Helper()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("%d %s: %s", res.StatusCode, res.Header.Get("Content-Type"), b)
	}
	raw, _ := io.ReadAll(res.Body)
	var out []map[string]any
	for _, line := range strings.Split(string(raw), "\n") {
		if line == "" {
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("line %q is not an SSE data line", line)
		}
		if data == "[DONE]" {
			return out
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(data), &m); err != nil {
			t.Fatalf("chunk %q: %v", data, err)
		}
		out = append(out, m)
	}
	t.Fatal("stream ended without [DONE]")
	return nil
}

// TestV1CORS: with CORSOrigin, that origin's pages may call /v1: preflights are answered
// (without the token, which preflights never carry), answers and refusals carry
// Access-Control-Allow-Origin for it; other origins get no CORS headers and are refused,
// and the rest of the server stays same-origin. Without CORSOrigin no origin gets any.
func TestV1CORS(t *testing.T) {
	cm := chatModel(t)
	const app = "http://app.example:3000"
	fl := &fakeLauncher{}
	_, ts := newServer(t, Options{Chat: cm, Token: "s3cret", CORSOrigin: "HTTP://App.Example:3000", Launch: fl})
	_, plain := newServer(t, Options{Chat: cm, Token: "s3cret"})
	preflight := map[string]string{"Origin": app, "Access-Control-Request-Method": "POST",
		"Access-Control-Request-Headers": "authorization,content-type,x-stainless-os,x-stainless-retry-count"}
	body := `{"model":"tiny","messages":[{"role":"user","content":"hi"}],"max_tokens":2}`

	code, hdr, _ := do(t, "OPTIONS", ts.URL+"/v1/chat/completions", "", preflight)
	if code != 204 || hdr.Get("Access-Control-Allow-Origin") != app || !strings.Contains(hdr.Get("Access-Control-Allow-Methods"), "POST") ||
		!strings.Contains(hdr.Get("Access-Control-Allow-Headers"), "authorization") || !strings.Contains(hdr.Get("Access-Control-Allow-Headers"), "x-stainless-os") ||
		hdr.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("preflight: %d %v", code, hdr)
	}
	code, hdr, b := do(t, "POST", ts.URL+"/v1/chat/completions", body, map[string]string{"Origin": app, "Authorization": "Bearer s3cret"})
	if code != 200 || hdr.Get("Access-Control-Allow-Origin") != app || !strings.Contains(hdr.Get("Vary"), "Origin") {
		t.Fatalf("cross-origin chat: %d %v %s", code, hdr, b)
	}
	code, hdr, _ = do(t, "GET", ts.URL+"/v1/models", "", map[string]string{"Origin": app, "Authorization": "Bearer s3cret"})
	if code != 200 || hdr.Get("Access-Control-Allow-Origin") != app {
		t.Fatalf("cross-origin models: %d %v", code, hdr)
	}
	// A refusal is readable by the page too.
	code, hdr, b = do(t, "POST", ts.URL+"/v1/chat/completions", body, map[string]string{"Origin": app})
	if checkError(t, "cors 401", hdr, b); code != 401 || hdr.Get("Access-Control-Allow-Origin") != app {
		t.Fatalf("cross-origin without token: %d %v", code, hdr)
	}

	// Another origin, the same origin on the monitor's API, or a server without the flag:
	// no CORS headers, and state-changing requests are refused.
	evil := map[string]string{"Origin": "http://evil.example", "Access-Control-Request-Method": "POST", "Authorization": "Bearer s3cret"}
	for _, tc := range []struct {
		url, method, body string
		header            map[string]string
		code              int
	}{
		{ts.URL + "/v1/chat/completions", "OPTIONS", "", evil, 403},
		{ts.URL + "/v1/chat/completions", "POST", body, evil, 403},
		{ts.URL + "/v1/models", "GET", "", evil, 200}, // a GET is answered, but the browser may not read it
		{ts.URL + "/api/runs", "GET", "", map[string]string{"Origin": app, "Authorization": "Bearer s3cret"}, 200},
		{ts.URL + "/api/launch", "POST", "kind=train", map[string]string{"Origin": app, "Authorization": "Bearer s3cret"}, 403},
		{ts.URL + "/api/launch", "OPTIONS", "", map[string]string{"Origin": app, "Access-Control-Request-Method": "POST"}, 401},
		{plain.URL + "/v1/chat/completions", "OPTIONS", "", preflight, 401},
		{plain.URL + "/v1/chat/completions", "POST", body, map[string]string{"Origin": app, "Authorization": "Bearer s3cret"}, 403},
	} {
		code, hdr, _ := do(t, tc.method, tc.url, tc.body, tc.header)
		if code != tc.code || hdr.Get("Access-Control-Allow-Origin") != "" || hdr.Get("Access-Control-Allow-Methods") != "" {
			t.Errorf("%s %s from %s: %d %v, want %d without CORS headers", tc.method, tc.url, tc.header["Origin"], code, hdr, tc.code)
		}
	}
	if fl.args != nil {
		t.Fatal("a cross-origin launch went through")
	}

	for in, want := range map[string]string{"http://localhost:3000": "http://localhost:3000", "https://App.Example": "https://app.example",
		"http://[::1]:8000/": "http://[::1]:8000", "*": "", "null": "", "localhost:3000": "", "ftp://x": "", "http://x/path": "",
		"http://x?q": "", "http://u@x": "", "": ""} {
		got, err := CheckOrigin(in)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("CheckOrigin(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := New(Options{RunsDir: t.TempDir(), CORSOrigin: "*"}); err == nil {
		t.Error("New took CORSOrigin *")
	}
}

// TestV1TakesWireTypes: a request in package openai's types with every field set (what
// aegis eval's client may send) is accepted, so the server's list of parameters and the
// shared wire types cannot drift apart.
func TestV1TakesWireTypes(t *testing.T) {
	cm := chatModel(t)
	_, ts := newServer(t, Options{Chat: cm})
	one, temp, seed, top, yes := 1, 0.5, int64(3), 2, true
	chatReq := openai.ChatRequest{Model: "tiny", Messages: []openai.Message{{Role: "user", Content: openai.TextContent("hi")}},
		MaxTokens: &one, MaxCompletionTokens: &one, Temperature: &temp, TopP: &temp, Seed: &seed, N: &one,
		Stop: json.RawMessage(`["x"]`), Stream: true, StreamOptions: &openai.StreamOptions{IncludeUsage: true}, Logprobs: &yes, TopLogprobs: &top}
	complReq := openai.CompletionRequest{Model: "tiny", Prompt: json.RawMessage(`"hi"`), MaxTokens: &one, Temperature: &temp, TopP: &temp,
		N: &one, Stop: json.RawMessage(`"x"`), Seed: &seed, Stream: true, StreamOptions: &openai.StreamOptions{IncludeUsage: true}, Logprobs: &top, Echo: true}
	for path, req := range map[string]any{"/v1/chat/completions": chatReq, "/v1/completions": complReq} {
		b, _ := json.Marshal(req)
		var fields map[string]any
		json.Unmarshal(b, &fields)
		if n := reflect.TypeOf(req).NumField(); len(fields) != n {
			t.Fatalf("%T: %d of %d fields set", req, len(fields), n)
		}
		res := post(t, ts.URL+path, string(b))
		if res.StatusCode != 200 {
			body, _ := io.ReadAll(res.Body)
			t.Errorf("%s: %d %s", path, res.StatusCode, body)
		}
	}
}
