package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/tokenizer"
)

// chatModel makes a tiny random model with a trained byte-level tokenizer and a chatml
// template (as cmd/aegis's tests do).
func chatModel(t *testing.T) *ChatModel {
	t.Helper()
	cm, _ := chatModelDir(t)
	return cm
}

// chatModelDir is chatModel and the folder holding its tokenizer files.
func chatModelDir(t *testing.T) (*ChatModel, string) {
	t.Helper()
	dir := t.TempDir()
	corpus := strings.Repeat("the quick brown fox jumps over the lazy dog. hello world! ", 40)
	tj, err := tokenizer.TrainBPE(strings.NewReader(corpus), tokenizer.TrainOptions{VocabSize: 300,
		SpecialTokens: []string{"<|im_start|>", "<|im_end|>"}})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "tokenizer.json"), tj, 0o644)
	os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(`{"eos_token": "<|im_end|>", "chat_template": "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"}`), 0o644)
	tok, err := tokenizer.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.New(model.Config{ModelType: "llama", VocabSize: tok.VocabSize(), HiddenSize: 32, IntermediateSize: 64,
		NumLayers: 2, NumHeads: 4, NumKVHeads: 2, RMSNormEps: 1e-5, InitializerRange: 0.5, MaxPositions: 128}, 3, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	eos, _ := tok.TokenID("<|im_end|>")
	return &ChatModel{Name: "tiny", Model: m, Tok: tok, StopIDs: []int32{eos}, MaxTokens: 64}, dir
}

func post(t *testing.T, url, body string) *http.Response {
	t.Helper()
	res, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

func TestOpenAIChat(t *testing.T) {
	cm := chatModel(t)
	_, ts := newServer(t, Options{Chat: cm})

	var models struct {
		Object string
		Data   []struct{ ID, Object string }
	}
	if getJSON(t, ts.URL+"/v1/models", &models); models.Object != "list" || len(models.Data) != 1 || models.Data[0].ID != "tiny" {
		t.Fatalf("%+v", models)
	}

	req := `{"model":"tiny","messages":[{"role":"user","content":"hello fox"}],"max_tokens":12}`
	res := post(t, ts.URL+"/v1/chat/completions", req)
	var out struct {
		Object  string
		Choices []struct {
			Message      struct{ Role, Content string }
			FinishReason string `json:"finish_reason"`
		}
		Usage struct{ PromptTokens, CompletionTokens int } `json:"usage"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != 200 {
		t.Fatal(res.StatusCode, err)
	}
	// The same greedy decode the model gives directly.
	ids, _, _ := cm.Tok.EncodeChat([]tokenizer.Message{{Role: "user", Content: "hello fox"}}, tokenizer.ChatOptions{AddGenerationPrompt: true})
	gen, _ := cm.Model.Generate(ids, model.GenerateOptions{MaxNewTokens: 12, StopIDs: cm.StopIDs})
	if n := len(gen); n > 0 && gen[n-1] == cm.StopIDs[0] {
		gen = gen[:n-1]
	}
	want := cm.Tok.Decode(gen, true)
	if c := out.Choices[0]; out.Object != "chat.completion" || c.Message.Role != "assistant" || c.Message.Content != want || (c.FinishReason != "stop" && c.FinishReason != "length") {
		t.Fatalf("%+v, want content %q", out, want)
	}

	// Streaming: the deltas add up to the same text, then a finish chunk and [DONE].
	res = post(t, ts.URL+"/v1/chat/completions", strings.Replace(req, `"max_tokens"`, `"stream":true,"max_tokens"`, 1))
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatal(ct)
	}
	var text strings.Builder
	var finish string
	done := false
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("line %q", line)
		}
		if data == "[DONE]" {
			done = true
			break
		}
		var ch struct {
			Object  string
			Choices []struct {
				Delta        struct{ Content string }
				FinishReason *string `json:"finish_reason"`
			}
		}
		if err := json.Unmarshal([]byte(data), &ch); err != nil || ch.Object != "chat.completion.chunk" {
			t.Fatalf("chunk %q: %v", data, err)
		}
		text.WriteString(ch.Choices[0].Delta.Content)
		if ch.Choices[0].FinishReason != nil {
			finish = *ch.Choices[0].FinishReason
		}
	}
	if !done || text.String() != want || finish != out.Choices[0].FinishReason {
		t.Fatalf("stream gave %q (finish %q, done %v), want %q", text.String(), finish, done, want)
	}

	for body, code := range map[string]int{
		`{"model":"other","messages":[{"role":"user","content":"x"}]}`: 404,
		`{"model":"tiny","messages":[]}`:                               400,
		`not json`:                                                     400,
		`{"model":"tiny","messages":[{"role":"user","content":[{"type":"image_url"}]}]}`:                       400,
		`{"model":"tiny","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"max_tokens":2}`: 200,
		`{"model":"tiny","messages":[{"role":"user","content":"` + strings.Repeat("x", 2<<20) + `"}]}`:         413,
	} {
		res := post(t, ts.URL+"/v1/chat/completions", body)
		var e bytes.Buffer
		e.ReadFrom(res.Body)
		if res.StatusCode != code {
			t.Errorf("%.60s: %d %s, want %d", body, res.StatusCode, e.String(), code)
		}
	}
}

func TestChatWithoutModel(t *testing.T) {
	_, ts := newServer(t, Options{})
	if res := post(t, ts.URL+"/v1/chat/completions", `{"model":"tiny","messages":[{"role":"user","content":"x"}]}`); res.StatusCode != 503 {
		t.Fatal(res.StatusCode)
	}
}

// chat posts a request and decodes the JSON answer into a generic map.
func chat(t *testing.T, url, body string) (int, map[string]any) {
	t.Helper()
	res := post(t, url+"/v1/chat/completions", body)
	var m map[string]any
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	return res.StatusCode, m
}

// sse posts a streaming request and returns its data payloads up to [DONE] (which must come).
func sse(t *testing.T, url, body string) []map[string]any {
	t.Helper()
	return readSSE(t, post(t, url+"/v1/chat/completions", body))
}

func keys(m map[string]any) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

// TestOpenAIShapes: the fields, types and values of responses, chunks, the model list and
// errors are those of OpenAI's API, so its clients (and garak, promptfoo, aegis eval) parse them.
func TestOpenAIShapes(t *testing.T) {
	cm := chatModel(t)
	cm.Created = 1700000000
	_, ts := newServer(t, Options{Chat: cm})
	ids, _, _ := cm.Tok.EncodeChat([]tokenizer.Message{{Role: "user", Content: "hello fox"}}, tokenizer.ChatOptions{AddGenerationPrompt: true})
	gen, _ := cm.Model.Generate(ids, model.GenerateOptions{MaxNewTokens: 16, StopIDs: cm.StopIDs})
	finishWant := "length"
	if n := len(gen); n > 0 && gen[n-1] == cm.StopIDs[0] {
		gen, finishWant = gen[:n-1], "stop"
	}
	want := cm.Tok.Decode(gen, true)

	code, m := chat(t, ts.URL, `{"model":"tiny","messages":[{"role":"user","content":"hello fox"}],"max_tokens":16}`)
	if code != 200 || keys(m) != "choices,created,id,model,object,usage" {
		t.Fatalf("%d %v", code, m)
	}
	if id, _ := m["id"].(string); !strings.HasPrefix(id, "chatcmpl-") || m["object"] != "chat.completion" || m["model"] != "tiny" {
		t.Fatalf("%v", m)
	}
	if c, ok := m["created"].(float64); !ok || c < 1.7e9 {
		t.Fatalf("created %v", m["created"])
	}
	choices := m["choices"].([]any)
	c0 := choices[0].(map[string]any)
	if len(choices) != 1 || keys(c0) != "finish_reason,index,logprobs,message" || c0["index"] != 0.0 || c0["logprobs"] != nil || c0["finish_reason"] != finishWant {
		t.Fatalf("choice %v", c0)
	}
	if msg := c0["message"].(map[string]any); msg["role"] != "assistant" || msg["content"] != want {
		t.Fatalf("message %v, want content %q", msg, want)
	}
	u := m["usage"].(map[string]any)
	if keys(u) != "completion_tokens,prompt_tokens,total_tokens" || u["prompt_tokens"] != float64(len(ids)) || u["completion_tokens"] != float64(len(gen)) ||
		u["total_tokens"] != float64(len(ids)+len(gen)) {
		t.Fatalf("usage %v (prompt %d, completion %d)", u, len(ids), len(gen))
	}

	// Streaming with usage: the same id on every chunk, the role first, content deltas,
	// a finish chunk, then a usage chunk with no choices; usage is null before that.
	chunks := sse(t, ts.URL, `{"model":"tiny","messages":[{"role":"user","content":"hello fox"}],"max_tokens":16,"stream":true,"stream_options":{"include_usage":true}}`)
	if len(chunks) < 3 {
		t.Fatalf("%d chunks", len(chunks))
	}
	var text strings.Builder
	for i, ch := range chunks {
		if keys(ch) != "choices,created,id,model,object,usage" || ch["object"] != "chat.completion.chunk" || ch["id"] != chunks[0]["id"] || ch["model"] != "tiny" {
			t.Fatalf("chunk %d: %v", i, ch)
		}
		cs := ch["choices"].([]any)
		if i == len(chunks)-1 {
			if len(cs) != 0 || keys(ch["usage"].(map[string]any)) != keys(u) || ch["usage"].(map[string]any)["total_tokens"] != u["total_tokens"] {
				t.Fatalf("usage chunk %v, want usage %v", ch, u)
			}
			continue
		}
		if ch["usage"] != nil || len(cs) != 1 {
			t.Fatalf("chunk %d: %v", i, ch)
		}
		cc := cs[0].(map[string]any)
		if keys(cc) != "delta,finish_reason,index,logprobs" || cc["index"] != 0.0 {
			t.Fatalf("chunk %d choice %v", i, cc)
		}
		d := cc["delta"].(map[string]any)
		switch i {
		case 0:
			if d["role"] != "assistant" || d["content"] != "" || cc["finish_reason"] != nil {
				t.Fatalf("first chunk %v", cc)
			}
		case len(chunks) - 2:
			if len(d) != 0 || cc["finish_reason"] != finishWant {
				t.Fatalf("finish chunk %v", cc)
			}
		default:
			if _, ok := d["content"].(string); !ok || d["role"] != nil || cc["finish_reason"] != nil {
				t.Fatalf("chunk %d: %v", i, cc)
			}
			text.WriteString(d["content"].(string))
		}
	}
	if text.String() != want {
		t.Fatalf("streamed %q, want %q", text.String(), want)
	}
	// Without stream_options there is no usage field at all.
	for _, ch := range sse(t, ts.URL, `{"model":"tiny","messages":[{"role":"user","content":"hello fox"}],"max_tokens":3,"stream":true}`) {
		if _, ok := ch["usage"]; ok {
			t.Fatalf("usage without include_usage: %v", ch)
		}
	}

	// n choices, each with its index.
	code, m = chat(t, ts.URL, `{"model":"tiny","messages":[{"role":"user","content":"hello fox"}],"max_tokens":4,"n":2}`)
	if cs := m["choices"].([]any); code != 200 || len(cs) != 2 || cs[1].(map[string]any)["index"] != 1.0 {
		t.Fatalf("n=2: %d %v", code, m)
	}
	if u := m["usage"].(map[string]any); u["prompt_tokens"] != float64(len(ids)) { // the prompt counts once
		t.Fatalf("n=2 usage %v", u)
	}

	// GET /v1/models and /v1/models/{id}.
	var list map[string]any
	getJSON(t, ts.URL+"/v1/models", &list)
	data := list["data"].([]any)
	if keys(list) != "data,object" || list["object"] != "list" || len(data) != 1 {
		t.Fatalf("%v", list)
	}
	if mo := data[0].(map[string]any); keys(mo) != "created,id,object,owned_by" || mo["id"] != "tiny" || mo["object"] != "model" || mo["created"] != 1700000000.0 {
		t.Fatalf("%v", mo)
	}
	var one map[string]any
	if code := getJSON(t, ts.URL+"/v1/models/tiny", &one); code != 200 || one["id"] != "tiny" || one["object"] != "model" {
		t.Fatalf("%d %v", code, one)
	}

	// Errors: {"error":{"message","type","param","code"}} with a fitting status.
	for body, want := range map[string]struct {
		code  int
		param string
	}{
		`{"model":"gpt-x","messages":[{"role":"user","content":"x"}]}`:                                  {404, "model"},
		`{"model":"tiny","messages":[{"role":"user","content":"x"}],"temperature":3}`:                   {400, "temperature"},
		`{"model":"tiny","messages":[{"role":"user","content":"x"}],"top_p":1.5}`:                       {400, "top_p"},
		`{"model":"tiny","messages":[{"role":"user","content":"x"}],"n":99}`:                            {400, "n"},
		`{"model":"tiny","messages":[{"role":"user","content":"x"}],"max_tokens":0}`:                    {400, "max_tokens"},
		`{"model":"tiny","messages":[{"role":"user","content":"x"}],"stop":["a","b","c","d","e"]}`:      {400, "stop"},
		`{"model":"tiny","messages":[{"role":"user","content":"x"}],"stop":7}`:                          {400, "stop"},
		`{"model":"tiny","messages":[{"role":"user"}]}`:                                                 {400, "messages[0].content"},
		`{"model":"tiny","messages":[{"content":"x"}]}`:                                                 {400, "messages[0].role"},
		`{"model":"tiny","messages":[{"role":"user","content":"` + strings.Repeat("x", 300) + `"}]}`:    {400, "messages"},
		`{"model":"tiny","messages":[{"role":"user","content":"x"}],"max_tokens":` + "1e999" + `}`:      {400, ""},
		`{"model":"tiny","messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]}`: {400, "messages[0].content"},
	} {
		code, m := chat(t, ts.URL, body)
		e, _ := m["error"].(map[string]any)
		if code != want.code || e == nil || keys(e) != "code,message,param,type" || e["message"] == "" || (want.param != "" && e["param"] != want.param) {
			t.Errorf("%.70s: %d %v, want %d with param %q", body, code, m, want.code, want.param)
		}
	}
	var e map[string]any
	if code := getJSON(t, ts.URL+"/v1/models/nope", &e); code != 404 || e["error"].(map[string]any)["code"] != "model_not_found" {
		t.Errorf("/v1/models/nope: %d %v", code, e)
	}
}

// TestOpenAIStopAndSeed: stop sequences end the answer before them (also when streamed,
// where text that may begin one is held back), and a seed makes sampling repeatable.
func TestOpenAIStopAndSeed(t *testing.T) {
	cm := chatModel(t)
	_, ts := newServer(t, Options{Chat: cm})
	base := `{"model":"tiny","messages":[{"role":"user","content":"the lazy dog"}],"max_tokens":24`
	_, m := chat(t, ts.URL, base+`}`)
	full := m["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)["content"].(string)
	r := []rune(full)
	if len(r) < 6 {
		t.Fatalf("answer %q too short to cut", full)
	}
	stop := string(r[3:5]) // two characters from the middle, likely spanning tokens
	cut := full[:strings.Index(full, stop)]
	t.Logf("answer %q, stop %q, cut %q", full, stop, cut)
	stopJSON, _ := json.Marshal([]string{"\u0000never", stop})
	_, m = chat(t, ts.URL, base+`,"stop":`+string(stopJSON)+`}`)
	c0 := m["choices"].([]any)[0].(map[string]any)
	if got := c0["message"].(map[string]any)["content"]; got != cut || c0["finish_reason"] != "stop" {
		t.Fatalf("stop %q: got %q (%v), want %q", stop, got, c0["finish_reason"], cut)
	}
	var text strings.Builder
	finish := ""
	for _, ch := range sse(t, ts.URL, base+`,"stream":true,"stop":`+string(stopJSON)+`}`) {
		cc := ch["choices"].([]any)[0].(map[string]any)
		if s, ok := cc["delta"].(map[string]any)["content"].(string); ok {
			text.WriteString(s)
		}
		if f, ok := cc["finish_reason"].(string); ok {
			finish = f
		}
	}
	if text.String() != cut || finish != "stop" {
		t.Fatalf("streamed with stop %q: %q (%s), want %q", stop, text.String(), finish, cut)
	}

	content := func(body string) string {
		_, m := chat(t, ts.URL, body)
		return m["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)["content"].(string)
	}
	a := content(base + `,"temperature":1,"seed":7}`)
	if b := content(base + `,"temperature":1,"seed":7}`); a != b {
		t.Fatalf("same seed, different answers: %q vs %q", a, b)
	}
	if b := content(base + `,"temperature":1,"seed":8}`); a == b {
		t.Fatalf("seeds 7 and 8 sampled the same %q", a)
	}
}

func TestStopHelpers(t *testing.T) {
	stops := []string{"END", "\n\n"}
	for text, want := range map[string]int{"abc": 0, "abcE": 1, "abcEN": 2, "abc\n": 1, "abcEND": 0, "E": 1} {
		if got := holdBack(text, stops); got != want {
			t.Errorf("holdBack(%q) = %d, want %d", text, got, want)
		}
	}
	if firstStop("a\n\nbEND", stops) != 1 || firstStop("abc", stops) != -1 || firstStop("xENDy\n\n", stops) != 1 {
		t.Error("firstStop")
	}
}

// TestLoadChatModel: a model folder with its tokenizer loads for /v1 under its folder's
// name, with the eos tokens of config.json and tokenizer_config.json as stops; a folder
// without tokenizer.json is refused in one line.
func TestLoadChatModel(t *testing.T) {
	cm, tokDir := chatModelDir(t)
	dir := filepath.Join(t.TempDir(), "tiny-chat")
	if err := cm.Model.Save(dir, "float32"); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadChatModel(ChatConfig{Dir: dir}); err == nil || !strings.Contains(err.Error(), "tokenizer.json") {
		t.Fatalf("no tokenizer: %v", err)
	}
	for _, f := range []string{"tokenizer.json", "tokenizer_config.json"} {
		b, err := os.ReadFile(filepath.Join(tokDir, f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f), b, 0o644)
	}
	got, err := LoadChatModel(ChatConfig{Dir: dir, MaxTokens: 9})
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "tiny-chat" || got.MaxTokens != 9 || got.Created == 0 || !slices.Contains(got.StopIDs, cm.StopIDs[0]) {
		t.Fatalf("%+v", got)
	}
	_, ts := newServer(t, Options{Chat: got})
	if code, m := chat(t, ts.URL, `{"model":"tiny-chat","messages":[{"role":"user","content":"hi"}],"max_tokens":3}`); code != 200 {
		t.Fatalf("%d %v", code, m)
	}
	if _, err := LoadChatModel(ChatConfig{}); err == nil {
		t.Fatal("no folder accepted")
	}
}
