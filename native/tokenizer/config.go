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
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("not a tokenizer_config.json: %v", err)
	}
	c := &Config{AddBOS: raw.AddBOS}
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
