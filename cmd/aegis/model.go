package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"unicode"

	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/tokenizer"
)

// modelFlags are the flags every command that loads a local model shares.
type modelFlags struct {
	dir, adapter string
	bf16         bool
}

func (f *modelFlags) register(fs *flagSet) {
	fs.StringVar(&f.dir, "model", "", "model folder (config.json, model.safetensors or shards)")
	fs.StringVar(&f.adapter, "adapter", "", "optional PEFT LoRA adapter folder to apply")
	fs.BoolVar(&f.bf16, "bf16", false, "hold the base weights in bfloat16 (half the memory)")
}

func (f *modelFlags) load() (*model.Model, error) {
	if f.dir == "" {
		return nil, fmt.Errorf("%w: --model is required", errUsage)
	}
	return model.LoadAdapted(f.dir, f.adapter, model.Options{BF16Base: f.bf16})
}

// parseIDs reads "1,5,9" (spaces allowed) as token ids.
func parseIDs(s string) ([]int32, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("%w: --ids is required (comma-separated token ids)", errUsage)
	}
	var ids []int32
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseInt(strings.TrimSpace(f), 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%w: --ids: %q is not a token id", errUsage, strings.TrimSpace(f))
		}
		ids = append(ids, int32(v))
	}
	return ids, nil
}

func runLogits(ctx context.Context, c *cli, args []string) error {
	fs := newFlags("logits", "--model DIR (--ids 1,5,9 | --ids-file FILE)",
		"Runs the model over the token ids and prints {\"logits\": [[...], ...]}: one row of raw\nfloat32 logits (vocab_size values) per input position. At most max_position_embeddings\nids; --ids-file reads them from a file (commas, spaces or line breaks between ids).", c.stdout)
	var mf modelFlags
	mf.register(fs)
	idsFlag := fs.String("ids", "", "comma-separated token ids")
	idsFile := fs.String("ids-file", "", "a file of token ids, separated by commas, spaces or line breaks")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *idsFlag != "" && *idsFile != "" {
		return fmt.Errorf("%w: give one of --ids and --ids-file", errUsage)
	}
	ids, err := readIDs(*idsFlag, *idsFile)
	if err != nil {
		return err
	}
	m, err := mf.load()
	if err != nil {
		return err
	}
	if err := m.Config.CheckLength(len(ids)); err != nil {
		return fmt.Errorf("model %s: %v", mf.dir, err)
	}
	logits, err := m.Forward(&model.Batch{B: 1, T: len(ids), IDs: ids})
	if err != nil {
		return err
	}
	if err := model.CheckFinite(logits, m.Config.VocabSize); err != nil {
		return fmt.Errorf("model %s: %v", mf.dir, err)
	}
	return model.WriteLogitsJSON(c.stdout, logits, m.Config.VocabSize)
}

// readIDs reads --ids, or the file --ids-file names, as token ids.
func readIDs(flagIDs, file string) ([]int32, error) {
	if file == "" {
		return parseIDs(flagIDs)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	fields := strings.FieldsFunc(string(b), func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	if len(fields) == 0 {
		return nil, fmt.Errorf("%s: no token ids", file)
	}
	ids := make([]int32, len(fields))
	for i, f := range fields {
		v, err := strconv.ParseInt(f, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a token id", file, f)
		}
		ids[i] = int32(v)
	}
	return ids, nil
}

func runGenerate(ctx context.Context, c *cli, args []string) error {
	fs := newFlags("generate", "--model DIR (--prompt TEXT | --ids 1,2,3) [--max-new-tokens N] [--temperature T] [--top-p P]",
		"Continues a prompt with the model, decoding with a KV cache. --prompt is tokenized with the\n"+
			"model's tokenizer.json and, when the tokenizer has a chat template (or --template names a\n"+
			"built-in one with --chat-template), sent as one user message (--system adds a system message; --raw encodes the\n"+
			"text as is); the answer streams to stdout as text. --ids takes token ids and prints\n"+
			"{\"ids\": [...]}, the new ids (with --json, --prompt prints {\"text\", \"ids\"} too).\n"+
			"Temperature 0 (the default) is greedy; generation stops at the model's eos token.", c.stdout)
	var mf modelFlags
	mf.register(fs)
	prompt := fs.String("prompt", "", "the prompt text")
	system := fs.String("system", "", "a system message before the prompt (chat templates only)")
	raw := fs.Bool("raw", false, "encode --prompt as is, without the chat template")
	template := fs.String("chat-template", "", "chat template: a built-in name (llama3, chatml, mistral) or a file; default the tokenizer's")
	idsFlag := fs.String("ids", "", "comma-separated prompt token ids (instead of --prompt)")
	maxNew := fs.Int("max-new-tokens", 64, "most tokens to generate")
	temp := fs.Float64("temperature", 0, "sampling temperature; 0 is greedy")
	topP := fs.Float64("top-p", 1, "nucleus sampling: keep the most likely tokens up to this probability")
	topK := fs.Int("top-k", 0, "keep only the K most likely tokens (0: all)")
	seed := fs.Uint64("seed", 0, "random seed for sampling")
	stop := fs.String("stop-ids", "", "comma-separated ids that end generation (default: the eos token; none: only --max-new-tokens ends it)")
	asJSON := fs.Bool("json", false, "with --prompt: print {\"text\", \"ids\"} instead of streaming text")
	var df debiasFlags
	df.register(fs)
	if err := fs.parse(args); err != nil {
		return err
	}
	if (*prompt == "") == (*idsFlag == "") {
		return fmt.Errorf("%w: give exactly one of --prompt and --ids", errUsage)
	}
	if *maxNew < 0 || !(*temp >= 0) || math.IsInf(*temp, 0) || !(*topP > 0 && *topP <= 1) || *topK < 0 {
		return fmt.Errorf("%w: need --max-new-tokens >= 0, a finite --temperature >= 0, 0 < --top-p <= 1, --top-k >= 0", errUsage)
	}
	var ids []int32
	var err error
	if *idsFlag != "" {
		if ids, err = parseIDs(*idsFlag); err != nil {
			return err
		}
	}
	m, err := mf.load()
	if err != nil {
		return err
	}
	stopIDs := m.Config.EOSIDs()
	var tok *tokenizer.Tokenizer
	if *prompt != "" {
		if tok, err = tokenizer.Load(mf.dir); err != nil {
			return err
		}
		if ids, err = encodePrompt(tok, *prompt, *system, *template, *raw); err != nil {
			return err
		}
		stopIDs = tok.StopIDs(stopIDs)
	}
	if *stop == "none" {
		stopIDs = nil
	} else if *stop != "" {
		if stopIDs, err = parseIDs(*stop); err != nil {
			return err
		}
		for _, id := range stopIDs {
			if id < 0 || int(id) >= m.Config.VocabSize {
				return fmt.Errorf("%w: --stop-ids: token id %d is outside the vocabulary (0-%d)", errUsage, id, m.Config.VocabSize-1)
			}
		}
	}
	opts := model.GenerateOptions{MaxNewTokens: *maxNew, Seed: *seed, StopIDs: stopIDs,
		Sampling: model.Sampling{Temperature: *temp, TopP: *topP, TopK: *topK}}
	if opts.Debias, err = df.load(m.Config.VocabSize); err != nil {
		return err
	}
	if tok != nil && !*asJSON {
		c.handleInterrupt() // Ctrl-C ends generation; what was generated so far is printed
		return streamText(ctx, c.stdout, m, tok, ids, opts)
	}
	out, err := m.Generate(ids, opts)
	if err != nil {
		return err
	}
	if out == nil {
		out = []int32{}
	}
	if tok != nil {
		return json.NewEncoder(c.stdout).Encode(map[string]any{"text": tok.Decode(out, true), "ids": out})
	}
	return json.NewEncoder(c.stdout).Encode(map[string]any{"ids": out})
}

// streamText generates and prints each token's text as it becomes final (a token that
// ends mid-character waits for the next one), until a stop id or ctx ends it.
func streamText(ctx context.Context, stdout io.Writer, m *model.Model, tok *tokenizer.Tokenizer, ids []int32, opts model.GenerateOptions) error {
	stream := tok.NewStream(true)
	w := bufio.NewWriter(stdout)
	opts.OnToken = func(id int32) bool {
		if piece := stream.Add(id); piece != "" {
			w.WriteString(piece)
			w.Flush()
		}
		return ctx.Err() == nil
	}
	if _, err := m.Generate(ids, opts); err != nil {
		return err
	}
	w.WriteString(stream.Flush())
	w.WriteString("\n")
	return w.Flush()
}

// encodePrompt turns --prompt into ids: through the chat template (--chat-template, or
// the tokenizer's) unless --raw, else as plain text with the tokenizer's special tokens.
func encodePrompt(tok *tokenizer.Tokenizer, prompt, system, template string, raw bool) ([]int32, error) {
	if raw || template == "" && !tok.HasChatTemplate() {
		if system != "" {
			return nil, fmt.Errorf("%w: --system needs a chat template", errUsage)
		}
		return tok.Encode(prompt, true), nil
	}
	template, err := readTemplateFlag(template)
	if err != nil {
		return nil, err
	}
	return tok.EncodePrompt(system, prompt, template)
}
