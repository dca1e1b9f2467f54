package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aegis-safety/aegis/internal/demo"
	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/safetensors"
	"github.com/aegis-safety/aegis/native/tokenizer"
)

const goldenDir = "../../native/model/testdata/golden"

// newTestCLI is the cli of a test: no input, progress discarded, endpoint retries after
// a millisecond, the embedded model as serve's default.
func newTestCLI() *cli {
	return &cli{stdin: strings.NewReader(""), stdout: io.Discard, progress: io.Discard, backoff: time.Millisecond,
		serveModel: demo.ModelDir}
}

func aegis(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return aegisWith(t, newTestCLI(), args...)
}

// aegisWith runs a command line with c, writing stdout to a buffer.
func aegisWith(t *testing.T, c *cli, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	c.stdout = &o
	code = c.main(args, &e)
	return o.String(), e.String(), code
}

// TestLogitsMatchesPyTorch: `aegis logits` on a golden model prints, per position, the
// logits the PyTorch reference computed for the same (unpadded) row.
func TestLogitsMatchesPyTorch(t *testing.T) {
	t.Parallel()
	for _, c := range []string{"llama_gqa", "qwen2", "llama_bf16", "llama_sharded"} {
		dir := filepath.Join(goldenDir, c)
		var g struct {
			InputIDs [][]int `json:"input_ids"`
		}
		b, err := os.ReadFile(filepath.Join(dir, "golden.json"))
		if err != nil {
			t.Fatal(err)
		}
		json.Unmarshal(b, &g)
		ids := make([]string, len(g.InputIDs[0]))
		for i, id := range g.InputIDs[0] {
			ids[i] = fmt.Sprint(id)
		}
		out, errOut, code := aegis(t, "logits", "--model", dir, "--ids", strings.Join(ids, ","))
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", c, code, errOut)
		}
		var got struct {
			Logits [][]float64 `json:"logits"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%s: output is not JSON: %v", c, err)
		}
		f, err := safetensors.Open(filepath.Join(dir, "golden.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		want, _ := f.Float32("logits")
		f.Close()
		if len(got.Logits) != len(ids) {
			t.Fatalf("%s: %d rows for %d ids", c, len(got.Logits), len(ids))
		}
		V := len(got.Logits[0])
		var maxErr, scale float64
		for p, row := range got.Logits {
			for v, x := range row {
				maxErr = math.Max(maxErr, math.Abs(x-float64(want[p*V+v])))
				scale = math.Max(scale, math.Abs(float64(want[p*V+v])))
			}
		}
		if maxErr/scale > 1e-4 {
			t.Errorf("%s: relative error %.2e", c, maxErr/scale)
		}
	}
}

func TestGenerateIDs(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(goldenDir, "llama_gqa")
	var g struct {
		Greedy struct {
			PromptIDs []int `json:"prompt_ids"`
			NewIDs    []int `json:"new_ids"`
		} `json:"greedy"`
	}
	b, _ := os.ReadFile(filepath.Join(dir, "golden.json"))
	json.Unmarshal(b, &g)
	ids := strings.Trim(strings.Join(strings.Fields(fmt.Sprint(g.Greedy.PromptIDs)), ","), "[]")
	out, errOut, code := aegis(t, "generate", "--model", dir, "--ids", ids, "--max-new-tokens", "8")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct{ IDs []int }
	json.Unmarshal([]byte(out), &got)
	if fmt.Sprint(got.IDs) != fmt.Sprint(g.Greedy.NewIDs) {
		t.Fatalf("generate %v, PyTorch greedy %v", got.IDs, g.Greedy.NewIDs)
	}
	// Sampling with a seed is reproducible.
	a, _, _ := aegis(t, "generate", "--model", dir, "--ids", ids, "--temperature", "1", "--top-p", "0.9", "--seed", "7")
	b2, _, _ := aegis(t, "generate", "--model", dir, "--ids", ids, "--temperature", "1", "--top-p", "0.9", "--seed", "7")
	if a != b2 || a == "" {
		t.Fatalf("seeded sampling differs: %q vs %q", a, b2)
	}
}

// copyModel copies a golden model folder so a test can damage it.
func copyModel(t *testing.T, name string) string {
	t.Helper()
	dst := t.TempDir()
	for _, f := range []string{"config.json", "model.safetensors"} {
		b, err := os.ReadFile(filepath.Join(goldenDir, name, f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dst, f), b, 0o644)
	}
	return dst
}

func editConfig(t *testing.T, dir string, edit func(map[string]any)) {
	t.Helper()
	path := filepath.Join(dir, "config.json")
	b, _ := os.ReadFile(path)
	var c map[string]any
	json.Unmarshal(b, &c)
	edit(c)
	b, _ = json.Marshal(c)
	os.WriteFile(path, b, 0o644)
}

// TestBadInput: every kind of bad input gets one clear line on stderr and a non-zero exit.
func TestBadInput(t *testing.T) {
	t.Parallel()
	good := filepath.Join(goldenDir, "llama_gqa")
	noWeights := copyModel(t, "llama_gqa")
	os.Remove(filepath.Join(noWeights, "model.safetensors"))
	badType := copyModel(t, "llama_gqa")
	editConfig(t, badType, func(c map[string]any) { c["model_type"] = "gpt2" })
	badShape := copyModel(t, "llama_gqa")
	editConfig(t, badShape, func(c map[string]any) { c["intermediate_size"] = 48 })
	badJSON := copyModel(t, "llama_gqa")
	os.WriteFile(filepath.Join(badJSON, "config.json"), []byte("{\"model_type\": "), 0o644)
	truncated := copyModel(t, "llama_gqa")
	st := filepath.Join(truncated, "model.safetensors")
	b, _ := os.ReadFile(st)
	os.WriteFile(st, b[:len(b)/2], 0o644)

	cases := []struct {
		name string
		args []string
		code int
		want []string // substrings of the one error line
	}{
		{"missing folder", []string{"logits", "--model", "/nonexistent/model", "--ids", "1"}, 1, []string{"/nonexistent/model"}},
		{"missing weights", []string{"logits", "--model", noWeights, "--ids", "1"}, 1, []string{"model.safetensors", "no such file"}},
		{"unsupported model_type", []string{"logits", "--model", badType, "--ids", "1"}, 1, []string{"config.json", `unsupported model_type "gpt2"`}},
		{"inconsistent shapes", []string{"logits", "--model", badShape, "--ids", "1"}, 1, []string{"mlp.gate_proj.weight", "shape"}},
		{"bad config json", []string{"logits", "--model", badJSON, "--ids", "1"}, 1, []string{"config.json"}},
		{"truncated weights", []string{"logits", "--model", truncated, "--ids", "1"}, 1, []string{"model.safetensors"}},
		{"id outside vocab", []string{"logits", "--model", good, "--ids", "1,80"}, 1, []string{"token id 80", "vocabulary"}},
		{"negative id", []string{"logits", "--model", good, "--ids", "-3"}, 1, []string{"token id -3"}},
		{"bad ids", []string{"logits", "--model", good, "--ids", "1,x"}, 2, []string{`"x"`}},
		{"no model", []string{"logits", "--ids", "1"}, 2, []string{"--model"}},
		{"unknown flag", []string{"logits", "--nope"}, 2, []string{"nope"}},
		{"unknown command", []string{"frobnicate"}, 2, []string{"frobnicate"}},
		{"generate id outside vocab", []string{"generate", "--model", good, "--ids", "999"}, 1, []string{"token id 999"}},
		{"generate bad top-p", []string{"generate", "--model", good, "--ids", "1", "--top-p", "0"}, 2, []string{"top-p"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := aegis(t, c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d (stderr %q)", code, c.code, errOut)
			}
			first := strings.SplitN(errOut, "\n", 2)[0]
			for _, w := range c.want {
				if !strings.Contains(first, w) {
					t.Errorf("error line %q lacks %q", first, w)
				}
			}
			if c.name != "unknown command" && strings.Count(strings.TrimRight(errOut, "\n"), "\n") > 0 {
				t.Errorf("error is not one line: %q", errOut)
			}
			if out != "" {
				t.Errorf("stdout not empty on error: %q", out)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	out, _, code := aegis(t, "--help")
	if code != 0 || !strings.Contains(out, "logits") || !strings.Contains(out, "generate") {
		t.Fatalf("--help: exit %d, %q", code, out)
	}
	out, _, code = aegis(t, "logits", "--help")
	if code != 0 || !strings.Contains(out, "--model") && !strings.Contains(out, "-model") {
		t.Fatalf("logits --help: exit %d, %q", code, out)
	}
}

// chatModel writes a small random model with a trained byte-level tokenizer and a chatml
// template into a folder.
func chatModel(t *testing.T) string {
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
		NumLayers: 2, NumHeads: 4, NumKVHeads: 2, RMSNormEps: 1e-5, InitializerRange: 0.5}, 3, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Save(dir, "float32"); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestGeneratePrompt: --prompt renders the chat template, tokenizes it, and prints the
// decoded continuation: the same tokens --ids gives for the same prompt ids.
func TestGeneratePrompt(t *testing.T) {
	t.Parallel()
	dir := chatModel(t)
	tok, _ := tokenizer.Load(dir)
	ids, _, err := tok.EncodeChat([]tokenizer.Message{{Role: "user", Content: "hello fox"}}, tokenizer.ChatOptions{AddGenerationPrompt: true})
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, id := range ids {
		parts = append(parts, fmt.Sprint(id))
	}
	out, errOut, code := aegis(t, "generate", "--model", dir, "--ids", strings.Join(parts, ","), "--max-new-tokens", "12", "--stop-ids", "none")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var byIDs struct{ IDs []int32 }
	json.Unmarshal([]byte(out), &byIDs)
	text, errOut, code := aegis(t, "generate", "--model", dir, "--prompt", "hello fox", "--max-new-tokens", "12", "--stop-ids", "none")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if want := tok.Decode(byIDs.IDs, true) + "\n"; text != want {
		t.Fatalf("--prompt printed %q, want %q", text, want)
	}
	js, _, _ := aegis(t, "generate", "--model", dir, "--prompt", "hello fox", "--max-new-tokens", "12", "--stop-ids", "none", "--json")
	var got struct {
		Text string
		IDs  []int32
	}
	json.Unmarshal([]byte(js), &got)
	if fmt.Sprint(got.IDs) != fmt.Sprint(byIDs.IDs) || got.Text+"\n" != text {
		t.Fatalf("--json gave %+v, want ids %v", got, byIDs.IDs)
	}
	if _, errOut, code := aegis(t, "generate", "--model", dir, "--prompt", "x", "--ids", "1"); code != 2 {
		t.Fatalf("--prompt with --ids: exit %d %s", code, errOut)
	}
}

// TestGroups: a command made of subcommands lists them without one, with --help (exit
// 0), and refuses an unknown one naming it (exit 2).
func TestGroups(t *testing.T) {
	t.Parallel()
	for _, g := range []group{dataGroup, debiasGroup, experimentGroup, benchGroup, tokenizerGroup} {
		out, _, code := aegis(t, g.name)
		if code != 2 || !strings.HasPrefix(out, "Usage: aegis "+g.name+" ") || !strings.Contains(out, g.subs[0].summary[:20]) {
			t.Errorf("aegis %s: exit %d, stdout %q", g.name, code, out)
		}
		if _, _, code := aegis(t, g.name, "--help"); code != 0 {
			t.Errorf("aegis %s --help: exit %d", g.name, code)
		}
		_, errOut, code := aegis(t, g.name, "nope")
		if code != 2 || !strings.Contains(errOut, `unknown subcommand "nope"`) {
			t.Errorf("aegis %s nope: exit %d, stderr %q", g.name, code, errOut)
		}
	}
}
