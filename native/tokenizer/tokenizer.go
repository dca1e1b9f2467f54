package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/aegis-safety/aegis/native/regfile"
)

// Tokenizer encodes text to token ids and back as the tokenizer.json it was loaded from
// specifies. It is safe for concurrent use.
type Tokenizer struct {
	model   *bpe
	norm    normalizer
	pre     preTokenizer
	dec     decoder
	post    postProcessor
	added   []*addedToken
	byID    map[int32]*addedToken
	byText  map[string]*addedToken
	fast    *fastSplit    // set when the pre-tokenizer is one isolating split (the common case)
	rawTrie *addedMatcher // tokens matched in the input text
	nrmTrie *addedMatcher // tokens matched after normalization
	size    int

	// Config is tokenizer_config.json (with chat_template.jinja's template) when Load
	// found one (nil otherwise).
	Config *Config
}

// Load reads a tokenizer from a tokenizer.json file, or from a folder holding
// tokenizer.json and optionally tokenizer_config.json (for chat templates and the
// bos/eos tokens) and chat_template.jinja (a chat template that replaces the config's).
func Load(path string) (*Tokenizer, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	dir, file := filepath.Dir(path), path
	if st.IsDir() {
		dir, file = path, filepath.Join(path, "tokenizer.json")
	}
	data, err := regfile.ReadFile(file)
	if err != nil {
		return nil, err
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	cfgPath := filepath.Join(dir, "tokenizer_config.json")
	if cdata, err := regfile.ReadFile(cfgPath); err == nil {
		if t.Config, err = ParseConfig(cdata); err != nil {
			return nil, fmt.Errorf("%s: %w", cfgPath, err)
		}
		if err := t.llamaPost(); err != nil {
			return nil, fmt.Errorf("%s: %w", cfgPath, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	// transformers saves the template in chat_template.jinja beside tokenizer_config.json,
	// and a template there takes the place of tokenizer_config.json's.
	jinjaPath := filepath.Join(dir, "chat_template.jinja")
	if src, err := regfile.ReadFile(jinjaPath); err == nil {
		if t.Config == nil {
			t.Config = &Config{}
		}
		t.Config.ChatTemplate = string(src)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return t, nil
}

// ReadTemplate resolves a chat template choice (a --chat-template): "" (the tokenizer's
// own template), a built-in template's name and a template's source (holding "{") are
// returned as they are, anything else is a file whose contents are the template.
func ReadTemplate(v string) (string, error) {
	if _, builtin := builtinTemplates[v]; v == "" || builtin || strings.Contains(v, "{") {
		return v, nil
	}
	b, err := regfile.ReadFile(v)
	if err != nil {
		return "", fmt.Errorf("%q is neither a built-in template (%s) nor a readable file", v, strings.Join(BuiltinTemplates(), ", "))
	}
	return string(b), nil
}

// typed is any component: its "type" and the raw object.
type typed struct {
	Type string
	raw  json.RawMessage
}

func (t *typed) UnmarshalJSON(b []byte) error {
	t.raw = append(json.RawMessage(nil), b...)
	var h struct{ Type string }
	if err := json.Unmarshal(b, &h); err != nil {
		return err
	}
	t.Type = h.Type
	return nil
}

func (t *typed) into(v any) error { return json.Unmarshal(t.raw, v) }

type fileJSON struct {
	Version       string          `json:"version"`
	AddedTokens   []*addedToken   `json:"added_tokens"`
	Normalizer    *typed          `json:"normalizer"`
	PreTokenizer  *typed          `json:"pre_tokenizer"`
	PostProcessor *typed          `json:"post_processor"`
	Decoder       *typed          `json:"decoder"`
	Model         json.RawMessage `json:"model"`
}

type modelJSON struct {
	Type                    string           `json:"type"`
	Dropout                 *float64         `json:"dropout"`
	UnkToken                *string          `json:"unk_token"`
	ContinuingSubwordPrefix *string          `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string          `json:"end_of_word_suffix"`
	FuseUnk                 bool             `json:"fuse_unk"`
	ByteFallback            bool             `json:"byte_fallback"`
	IgnoreMerges            bool             `json:"ignore_merges"`
	Vocab                   map[string]int32 `json:"vocab"`
	Merges                  json.RawMessage  `json:"merges"`
}

// Parse reads the contents of a tokenizer.json.
func Parse(data []byte) (*Tokenizer, error) {
	var f fileJSON
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("not a tokenizer.json: %v", err)
	}
	if len(f.Model) == 0 || string(f.Model) == "null" {
		return nil, errors.New("no model")
	}
	var mt struct {
		Type   string
		Merges json.RawMessage
	}
	if err := json.Unmarshal(f.Model, &mt); err != nil {
		return nil, fmt.Errorf("model: %v", err)
	}
	if mt.Type == "" && mt.Merges != nil {
		mt.Type = "BPE" // old files omit the type
	}
	if mt.Type != "BPE" {
		return nil, fmt.Errorf("unsupported model %q (only BPE)", mt.Type)
	}
	var mj modelJSON
	if err := json.Unmarshal(f.Model, &mj); err != nil {
		return nil, fmt.Errorf("model: %v", err)
	}
	if mj.Dropout != nil && *mj.Dropout != 0 {
		return nil, fmt.Errorf("unsupported model option dropout %v (BPE dropout is random; use null)", *mj.Dropout)
	}
	merges, err := parseMerges(mj.Merges)
	if err != nil {
		return nil, fmt.Errorf("model merges: %v", err)
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	t := &Tokenizer{byID: map[int32]*addedToken{}, byText: map[string]*addedToken{}}
	if t.model, err = newBPE(mj.Vocab, merges, str(mj.UnkToken), mj.FuseUnk, mj.ByteFallback, mj.IgnoreMerges,
		str(mj.ContinuingSubwordPrefix), str(mj.EndOfWordSuffix)); err != nil {
		return nil, fmt.Errorf("model: %v", err)
	}
	if t.norm, err = buildNormalizer(f.Normalizer); err != nil {
		return nil, err
	}
	byteLevel := false
	if t.pre, err = buildPre(f.PreTokenizer, &byteLevel); err != nil {
		return nil, err
	}
	if byteLevel {
		t.model.enableBytes()
	}
	t.fast = fastPath(t.pre)
	if t.dec, err = buildDecoder(f.Decoder); err != nil {
		return nil, err
	}
	t.size = len(t.model.tokens)
	var raw, nrm []*addedToken
	for _, a := range f.AddedTokens {
		t.added = append(t.added, a)
		t.byID[a.ID] = a
		t.byText[a.Content] = a
		t.size = max(t.size, int(a.ID)+1)
		if a.Normalized {
			c := *a
			if t.norm != nil {
				c.Content = t.norm.normalize(c.Content)
			}
			nrm = append(nrm, &c)
		} else {
			raw = append(raw, a)
		}
	}
	t.rawTrie, t.nrmTrie = newAddedMatcher(raw), newAddedMatcher(nrm)
	if t.post, err = t.buildPost(f.PostProcessor); err != nil {
		return nil, err
	}
	return t, nil
}

// parseMerges accepts both merge forms: "a b" strings (split at the first space, as HF
// does) and ["a", "b"] pairs.
func parseMerges(raw json.RawMessage) ([][2]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	inner := bytes.TrimSpace(raw[1:])
	if len(inner) > 0 && inner[0] == '[' {
		var pairs [][2]string
		if err := json.Unmarshal(raw, &pairs); err != nil {
			return nil, err
		}
		return pairs, nil
	}
	var lines []string
	if err := json.Unmarshal(raw, &lines); err != nil {
		return nil, err
	}
	pairs := make([][2]string, len(lines))
	for i, l := range lines {
		k := strings.IndexByte(l, ' ')
		if k < 0 {
			return nil, fmt.Errorf("merge %d (%q) is not two tokens separated by a space", i, l)
		}
		pairs[i] = [2]string{l[:k], l[k+1:]}
	}
	return pairs, nil
}

// VocabSize is the number of ids: the model's vocabulary and the added tokens.
func (t *Tokenizer) VocabSize() int { return t.size }

// TokenID returns the id of a token text (added tokens first, then the model vocabulary).
func (t *Tokenizer) TokenID(tok string) (int32, bool) {
	if a, ok := t.byText[tok]; ok {
		return a.ID, true
	}
	id, ok := t.model.vocab[tok]
	return id, ok
}

// Token returns the text of a token id, "" when there is none.
func (t *Tokenizer) Token(id int32) string {
	if a, ok := t.byID[id]; ok {
		return a.Content
	}
	if id >= 0 && int(id) < len(t.model.tokens) {
		return t.model.tokens[id]
	}
	return ""
}

// IsSpecial reports whether id is an added token marked special.
func (t *Tokenizer) IsSpecial(id int32) bool {
	a, ok := t.byID[id]
	return ok && a.Special
}

// Encode tokenizes text. addSpecial applies the post-processor (e.g. a leading BOS), as
// HF's add_special_tokens=True; added tokens written in the text are always recognised.
func (t *Tokenizer) Encode(text string, addSpecial bool) []int32 {
	ids := t.AppendEncode(nil, text)
	if addSpecial && t.post != nil {
		ids = t.post.single(ids)
	}
	return ids
}

// AppendEncode appends the ids of text (no special tokens added) to dst.
func (t *Tokenizer) AppendEncode(dst []int32, text string) []int32 {
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "\uFFFD")
	}
	if text == "" {
		return dst
	}
	var pieces []piece
	t.rawTrie.split(piece{s: text}, func(p piece) {
		if t.norm != nil {
			p.s = t.norm.normalize(p.s)
		}
		t.nrmTrie.split(p, func(q piece) {
			if t.fast != nil {
				dst = t.fast.encode(dst, t.model, q.s)
				return
			}
			if t.pre == nil {
				dst = t.model.appendWord(dst, q.s, false)
				return
			}
			pieces = t.pre.split(pieces[:0], q)
			for _, w := range pieces {
				dst = t.model.appendWord(dst, w.s, w.raw)
			}
		}, func(a *addedToken) { dst = append(dst, a.ID) })
	}, func(a *addedToken) { dst = append(dst, a.ID) })
	return dst
}

// Decode turns ids back into text; skipSpecial drops special added tokens. Unknown ids
// are skipped.
func (t *Tokenizer) Decode(ids []int32, skipSpecial bool) string {
	toks := make([]string, 0, len(ids))
	for _, id := range ids {
		if a, ok := t.byID[id]; ok {
			if skipSpecial && a.Special {
				continue
			}
			toks = append(toks, a.Content)
			continue
		}
		if id >= 0 && int(id) < len(t.model.tokens) && t.model.tokens[id] != "" {
			toks = append(toks, t.model.tokens[id])
		}
	}
	if t.dec == nil {
		return strings.Join(toks, " ")
	}
	return strings.Join(t.dec.chain(toks), "")
}
