package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aegis-safety/aegis/internal/tokenizertest"
)

const tokTestdata = "../../native/tokenizer/testdata"

func tokenizeWith(t *testing.T, input string, args ...string) (string, string, int) {
	t.Helper()
	c := newTestCLI()
	c.stdin = strings.NewReader(input)
	return aegisWith(t, c, append([]string{"tokenize"}, args...)...)
}

// TestTokenizeText: one output line per input line, in order, ids as HF tokenizers gives
// them for the trained test tokenizer.
func TestTokenizeText(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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
	t.Parallel()
	dir := refTokenizerDir(t, "tokenizer-llama3_1")
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
	t.Parallel()
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
	t.Parallel()
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
	t.Parallel()
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

// refTokenizerDir returns the folder of an npm-installed reference tokenizer (npm ci
// runs when it is missing and npm is on PATH), or skips.
func refTokenizerDir(t *testing.T, pkg string) string { return tokenizertest.Dir(t, pkg) }

// TestTokenizeSpecialTokensFlag: through the CLI, the real Llama-3.1 and Llama-2 folders
// give HF tokenizers' ids for every golden text: without special tokens by default, with
// them (BOS) under --add-special-tokens.
func TestTokenizeSpecialTokensFlag(t *testing.T) {
	t.Parallel()
	for name, pkg := range map[string]string{"llama3": "tokenizer-llama3_1", "llama2": "tokenizer-llama2"} {
		t.Run(name, func(t *testing.T) {
			dir := refTokenizerDir(t, pkg)
			type row struct {
				Text       string  `json:"text"`
				IDs        []int32 `json:"ids"`
				IDsSpecial []int32 `json:"ids_special"`
			}
			f, err := os.Open(filepath.Join(tokTestdata, "golden_"+name+".jsonl"))
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
			for _, special := range []bool{false, true} {
				args := []string{"--tokenizer", dir}
				if special {
					args = append(args, "--add-special-tokens")
				}
				out, errOut, code := tokenizeWith(t, in.String(), args...)
				if code != 0 {
					t.Fatalf("exit %d: %s", code, errOut)
				}
				lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
				if len(lines) != len(rows) {
					t.Fatalf("%d output lines for %d inputs", len(lines), len(rows))
				}
				for i, l := range lines {
					var got map[string][]int32
					if err := json.Unmarshal([]byte(l), &got); err != nil || len(got) != 1 || got["ids"] == nil {
						t.Fatalf("line %d: %q is not {\"ids\": [...]}", i+1, l)
					}
					want := rows[i].IDs
					if special {
						want = rows[i].IDsSpecial
					}
					if !slices.Equal(got["ids"], want) {
						t.Errorf("special=%v %q: got %v want %v", special, rows[i].Text, got["ids"], want)
					}
				}
			}
		})
	}
}

// TestTokenizeChatTemplateFile: a folder's chat_template.jinja replaces the template of
// its tokenizer_config.json, as in transformers.
func TestTokenizeChatTemplateFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	raw, _ := os.ReadFile(filepath.Join(tokTestdata, "train", "tokenizer.json"))
	os.WriteFile(filepath.Join(dir, "tokenizer.json"), raw, 0o644)
	os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(`{"eos_token": "<|pad|>", "chat_template": "config:{{ messages[0].content }}"}`), 0o644)
	in := `{"messages": [{"role": "user", "content": "hi"}], "add_generation_prompt": true}` + "\n"
	out, errOut, code := tokenizeWith(t, in, "--tokenizer", dir)
	if code != 0 || !strings.HasPrefix(out, `{"text":"config:hi","ids":[`) {
		t.Errorf("exit %d %s: %s", code, errOut, out)
	}
	os.WriteFile(filepath.Join(dir, "chat_template.jinja"), []byte("file:{{ messages[0].content }}{{ eos_token }}{% if add_generation_prompt %}>{% endif %}"), 0o644)
	out, errOut, code = tokenizeWith(t, in, "--tokenizer", dir)
	if code != 0 || !strings.HasPrefix(out, `{"text":"file:hi<|pad|>>","ids":[`) || !strings.Contains(out, `,1,`) {
		t.Errorf("exit %d %s: %s", code, errOut, out)
	}
}

// TestBenchTokenize: `aegis bench tokenize --json` reports throughput; with Node and the
// reference tokenizers installed it runs HF tokenizers on the same documents in the same
// run, gets the same ids, and aegis is at least as fast on one thread (the issue's
// target; the README states the measured ratios).
func TestBenchTokenize(t *testing.T) {
	type result struct {
		MBPerS    float64 `json:"mb_per_s"`
		Tokens    int     `json:"tokens"`
		HFMBPerS  float64 `json:"hf_mb_per_s"`
		Ratio     float64 `json:"ratio"`
		Identical *bool   `json:"identical"`
		HFError   string  `json:"hf_error"`
	}
	out, errOut, code := aegis(t, "bench", "tokenize", "--tokenizer", filepath.Join(tokTestdata, "train", "tokenizer.json"), "--mb", "0.1", "--rounds", "1", "--hf=false", "--json")
	var r result
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil || r.MBPerS <= 0 || r.Tokens <= 0 || r.Identical != nil {
		t.Fatalf("exit %d %s: %s", code, errOut, out)
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not found: HF tokenizers not compared")
	}
	dir := refTokenizerDir(t, "tokenizer-llama3_1")
	out, errOut, code = aegis(t, "bench", "tokenize", "--tokenizer", dir, "--mb", "0.5", "--rounds", "2", "--hf-script", "../../scripts/tokenizer_bench.mjs", "--json")
	r = result{}
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil || r.HFError != "" || r.Identical == nil {
		t.Fatalf("exit %d %s: %s", code, errOut, out)
	}
	if !*r.Identical {
		t.Errorf("aegis and HF tokenizers produced different ids: %s", out)
	}
	if r.Ratio < 1 {
		t.Errorf("aegis %.1f MB/s, HF tokenizers %.1f MB/s: below the 1x target", r.MBPerS, r.HFMBPerS)
	}
	t.Logf("aegis %.1f MB/s, HF tokenizers %.1f MB/s (%.1fx)", r.MBPerS, r.HFMBPerS, r.Ratio)
}
