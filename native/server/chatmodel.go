package server

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/tokenizer"
)

// ChatConfig says which model folder /v1 serves and how to load it.
type ChatConfig struct {
	// Dir is the Hugging Face model folder: config.json, model.safetensors (or shards),
	// tokenizer.json and usually tokenizer_config.json (chat template, eos token).
	Dir string
	// Name is the model id /v1/models lists and requests name (default: Dir's base name).
	Name string
	// Adapter is an optional PEFT LoRA adapter folder applied on top.
	Adapter string
	// BF16 holds the base weights in bfloat16.
	BF16 bool
	// Template overrides the tokenizer's chat template (a built-in name or template source).
	Template string
	// MaxTokens is the most tokens an answer may have: max_tokens above it is refused
	// (default 256).
	MaxTokens int
}

// LoadChatModel loads the model folder c.Dir for /v1. Whoever calls it picks the folder
// (aegis serve: --model DIR, else its default model, if one is built in).
func LoadChatModel(c ChatConfig) (*ChatModel, error) {
	if c.Dir == "" {
		return nil, errors.New("no model folder")
	}
	m, err := model.LoadAdapted(c.Dir, c.Adapter, model.Options{BF16Base: c.BF16})
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(c.Dir, "tokenizer.json")); err != nil {
		return nil, fmt.Errorf("%s: no tokenizer.json: /v1 needs the model's tokenizer", c.Dir)
	}
	tok, err := tokenizer.Load(c.Dir)
	if err != nil {
		return nil, err
	}
	stop := tok.StopIDs(m.Config.EOSIDs())
	name := c.Name
	if name == "" {
		name = filepath.Base(filepath.Clean(c.Dir))
	}
	return &ChatModel{Name: name, Model: m, Tok: tok, StopIDs: stop, Template: c.Template, MaxTokens: c.MaxTokens,
		Created: time.Now().Unix()}, nil
}
