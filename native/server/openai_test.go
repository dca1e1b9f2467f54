package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/tokenizer"
)

// chatModel makes a tiny random model with a trained byte-level tokenizer and a chatml
// template (as cmd/aegis's tests do).
func chatModel(t *testing.T) *ChatModel {
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
	return &ChatModel{Name: "tiny", Model: m, Tok: tok, StopIDs: []int32{eos}, MaxTokens: 64}
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
		`{"messages":[]}`: 400,
		`not json`:        400,
		`{"messages":[{"role":"user","content":[{"type":"image_url"}]}]}`:                       400,
		`{"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"max_tokens":2}`: 200,
		`{"messages":[{"role":"user","content":"` + strings.Repeat("x", 2<<20) + `"}]}`:         413,
	} {
		res := post(t, ts.URL+"/v1/chat/completions", body)
		var e bytes.Buffer
		e.ReadFrom(res.Body)
		if res.StatusCode != code && !(code == 413 && res.StatusCode == 400) {
			t.Errorf("%.60s: %d %s, want %d", body, res.StatusCode, e.String(), code)
		}
	}
}

func TestChatWithoutModel(t *testing.T) {
	_, ts := newServer(t, Options{})
	if res := post(t, ts.URL+"/v1/chat/completions", `{"messages":[{"role":"user","content":"x"}]}`); res.StatusCode != 503 {
		t.Fatal(res.StatusCode)
	}
}
