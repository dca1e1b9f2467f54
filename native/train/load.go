package train

import (
	"os"
	"path/filepath"

	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/tokenizer"
)

// LoadOptions are a run's loading settings that its Config does not record.
type LoadOptions struct {
	BF16         bool   // hold the frozen base in bfloat16 (LoRA only)
	ChatTemplate string // for conversational rows ("": the tokenizer's)
	MaxLen       int    // longest prompt+response in tokens (0: the model's max_position_embeddings)
	Truncate     bool   // truncate over-long rows instead of failing
}

// Load reads c.Model (with the security vector c.SecVec, if any) and c.Data tokenized as
// c.Method needs it, with the model folder's tokenizer.json when there is one
// (pre-tokenized data needs none).
func Load(c Config, o LoadOptions) (*model.Model, []Example, error) {
	m, err := model.Load(c.Model, model.Options{BF16Base: o.BF16})
	if err != nil {
		return nil, nil, err
	}
	if c.SecVec != "" {
		if _, err := m.LoadAdapter(c.SecVec, SecurityVectorName); err != nil {
			return nil, nil, err
		}
	}
	var tok *tokenizer.Tokenizer
	if _, err := os.Stat(filepath.Join(c.Model, "tokenizer.json")); err == nil {
		if tok, err = tokenizer.Load(c.Model); err != nil {
			return nil, nil, err
		}
	}
	method, _ := Lookup(c.Method)
	do := method.DataOptions()
	do.Tokenizer, do.ChatTemplate, do.Vocab, do.MaxLen, do.Truncate = tok, o.ChatTemplate, m.Config.VocabSize, o.MaxLen, o.Truncate
	if do.MaxLen == 0 {
		do.MaxLen = m.Config.MaxPositions
	}
	data, err := LoadData(c.Data, do)
	return m, data, err
}

// LoadAPLModels loads APL's two players from their folders (with their tokenizers), and
// with full their reference copies.
func LoadAPLModels(defender, attacker string, full bool) (APLModels, error) {
	load := func(dir string) (*model.Model, *tokenizer.Tokenizer, error) {
		m, err := model.Load(dir, model.Options{})
		if err != nil {
			return nil, nil, err
		}
		tok, err := tokenizer.Load(dir)
		return m, tok, err
	}
	var ms APLModels
	var err error
	if ms.Defender, ms.DefenderTok, err = load(defender); err != nil {
		return ms, err
	}
	if ms.Attacker, ms.AttackerTok, err = load(attacker); err != nil {
		return ms, err
	}
	if full {
		if ms.DefenderRef, _, err = load(defender); err != nil {
			return ms, err
		}
		if ms.AttackerRef, _, err = load(attacker); err != nil {
			return ms, err
		}
	}
	return ms, nil
}
