package tokenizer

import (
	"encoding/json"
	"fmt"
)

// Config is the part of tokenizer_config.json that encoding and chat templates use.
type Config struct {
	ChatTemplate string // the default template ("" when none)
	// Templates holds named templates when chat_template is a list of {name, template}.
	Templates map[string]string
	BOSToken  string
	EOSToken  string
	PADToken  string
	UNKToken  string
	AddBOS    *bool // add_bos_token, when present
	AddEOS    *bool // add_eos_token, when present
	// TokenizerClass is transformers' tokenizer_class (e.g. "LlamaTokenizerFast").
	TokenizerClass string
}

// ParseConfig reads the contents of a tokenizer_config.json.
func ParseConfig(data []byte) (*Config, error) {
	var raw struct {
		ChatTemplate json.RawMessage `json:"chat_template"`
		BOS          json.RawMessage `json:"bos_token"`
		EOS          json.RawMessage `json:"eos_token"`
		PAD          json.RawMessage `json:"pad_token"`
		UNK          json.RawMessage `json:"unk_token"`
		AddBOS       *bool           `json:"add_bos_token"`
		AddEOS       *bool           `json:"add_eos_token"`
		Class        string          `json:"tokenizer_class"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("not a tokenizer_config.json: %v", err)
	}
	c := &Config{AddBOS: raw.AddBOS, AddEOS: raw.AddEOS, TokenizerClass: raw.Class}
	if len(raw.ChatTemplate) > 0 && string(raw.ChatTemplate) != "null" {
		var s string
		if json.Unmarshal(raw.ChatTemplate, &s) == nil {
			c.ChatTemplate = s
		} else {
			var list []struct{ Name, Template string }
			if err := json.Unmarshal(raw.ChatTemplate, &list); err != nil {
				return nil, fmt.Errorf("chat_template is neither a string nor a list of {name, template}")
			}
			c.Templates = map[string]string{}
			for _, e := range list {
				c.Templates[e.Name] = e.Template
			}
			c.ChatTemplate = c.Templates["default"]
		}
	}
	c.BOSToken, c.EOSToken, c.PADToken, c.UNKToken = tokenText(raw.BOS), tokenText(raw.EOS), tokenText(raw.PAD), tokenText(raw.UNK)
	return c, nil
}

// tokenText reads a special token given as a string or as an AddedToken object.
func tokenText(b json.RawMessage) string {
	var s string
	if json.Unmarshal(b, &s) == nil {
		return s
	}
	var o struct{ Content string }
	if json.Unmarshal(b, &o) == nil {
		return o.Content
	}
	return ""
}

// llamaPost is what transformers' LlamaTokenizerFast does at load time: it replaces the
// post-processor with BOS (add_bos_token, default true) + text + EOS (add_eos_token,
// default false). Other tokenizer classes keep tokenizer.json's post-processor.
func (t *Tokenizer) llamaPost() error {
	c := t.Config
	switch c.TokenizerClass {
	case "LlamaTokenizer", "LlamaTokenizerFast", "CodeLlamaTokenizer", "CodeLlamaTokenizerFast":
	default:
		return nil
	}
	var p templatePost
	add := func(name, tok string) error {
		id, ok := t.TokenID(tok)
		if tok == "" || !ok {
			return fmt.Errorf("%s is set but %s %q is not a token", map[string]string{"bos": "add_bos_token", "eos": "add_eos_token"}[name], name+"_token", tok)
		}
		p.items = append(p.items, []int32{id})
		return nil
	}
	if c.AddBOS == nil || *c.AddBOS {
		if err := add("bos", c.BOSToken); err != nil {
			return err
		}
	}
	p.items = append(p.items, nil)
	if c.AddEOS != nil && *c.AddEOS {
		if err := add("eos", c.EOSToken); err != nil {
			return err
		}
	}
	t.post = p
	return nil
}
