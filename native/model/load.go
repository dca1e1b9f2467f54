package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/aegis-safety/aegis/native/regfile"
	"github.com/aegis-safety/aegis/native/safetensors"
)

// Load reads a Hugging Face model folder: config.json and model.safetensors (or the shards
// of model.safetensors.index.json). Every tensor the config implies must be present with
// the right shape; extra tensors (such as rotary inv_freq buffers) are ignored. The base
// is frozen until SetBaseTrainable(true).
func Load(dir string, opt Options) (*Model, error) {
	cfgPath := filepath.Join(dir, "config.json")
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("model folder %s: %w", dir, notExist(err))
	}
	cfg, err := LoadConfig(cfgPath)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", dir, notExist(err))
	}
	set, err := safetensors.OpenModel(dir)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", dir, notExist(err))
	}
	defer set.Close()
	m := build(cfg, Options{})
	need := func(p *Param) error {
		info, ok := set.Info(p.Name)
		if !ok {
			return fmt.Errorf("model %s: missing tensor %q", dir, p.Name)
		}
		if !slices.Equal(info.Shape, p.Shape) {
			return fmt.Errorf("model %s: tensor %q has shape %v, config.json implies %v", dir, p.Name, info.Shape, p.Shape)
		}
		return nil
	}
	for _, p := range m.baseParams() {
		if err := need(p); err != nil {
			return nil, err
		}
	}
	for _, l := range m.linears() {
		if opt.BF16Base {
			if l.wbf16, err = set.BF16(l.W.Name); err != nil {
				return nil, err
			}
			l.W.Data = nil
		} else if l.W.Data, err = set.Float32(l.W.Name); err != nil {
			return nil, err
		}
	}
	for _, p := range m.baseParams() {
		if len(p.Shape) == 2 {
			continue // weight matrices, read above
		}
		if p.Data, err = set.Float32(p.Name); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// notExist shortens the standard "no such file" error to what a user needs.
func notExist(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: no such file", pe.Path)
	}
	return err
}

// Save writes config.json and model.safetensors to dir, with the linear and embedding
// weights in dtype "float32" or "bfloat16" (norms and biases stay float32, as they are
// small and precision-sensitive).
func (m *Model) Save(dir, dtype string) error {
	if dtype != "float32" && dtype != "bfloat16" {
		return fmt.Errorf("save: dtype %q (want float32 or bfloat16)", dtype)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cfg := m.Config
	cfg.TorchDtype = dtype
	b, err := json.MarshalIndent(&cfg, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	bf16 := map[*Param][]uint16{}
	for _, l := range m.linears() {
		if l.wbf16 != nil {
			bf16[l.W] = l.wbf16
		}
	}
	var ts []safetensors.Tensor
	for _, p := range m.baseParams() {
		t := safetensors.Tensor{Name: p.Name, DType: safetensors.F32, Shape: p.Shape, F32: p.Data}
		if h, ok := bf16[p]; ok {
			t = safetensors.Tensor{Name: p.Name, DType: safetensors.BF16, Shape: p.Shape, BF16: h}
		} else if dtype == "bfloat16" && len(p.Shape) == 2 {
			t.DType = safetensors.BF16
		}
		ts = append(ts, t)
	}
	return safetensors.Write(filepath.Join(dir, "model.safetensors"), ts, map[string]string{"format": "pt"})
}

// peftConfig is the part of PEFT's adapter_config.json that LoRA needs.
type peftConfig struct {
	PeftType      string  `json:"peft_type"`
	R             int     `json:"r"`
	LoraAlpha     float64 `json:"lora_alpha"`
	TargetModules any     `json:"target_modules"` // a list, or one name
	UseRSLoRA     bool    `json:"use_rslora"`
	UseDoRA       bool    `json:"use_dora"`
	FanInFanOut   bool    `json:"fan_in_fan_out"`
	Bias          string  `json:"bias"`
	TaskType      string  `json:"task_type,omitempty"`
	BaseModel     string  `json:"base_model_name_or_path"`
	LoraDropout   float64 `json:"lora_dropout"`
}

// LoadAdapted is Load with the PEFT LoRA adapter folder adapter, when one is given,
// applied as the adapter set "adapter" (LoadAdapter): a model folder as aegis's commands
// and its server run it.
func LoadAdapted(dir, adapter string, opt Options) (*Model, error) {
	m, err := Load(dir, opt)
	if err != nil {
		return nil, err
	}
	if adapter != "" {
		if _, err := m.LoadAdapter(adapter, "adapter"); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// LoadAdapter reads a PEFT LoRA adapter folder (adapter_config.json and
// adapter_model.safetensors) as a new adapter set called name, enabled and frozen.
func (m *Model) LoadAdapter(dir, name string) (*Adapter, error) {
	path := filepath.Join(dir, "adapter_config.json")
	b, err := regfile.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("adapter %s: %w", dir, notExist(err))
	}
	var pc peftConfig
	if err := json.Unmarshal(b, &pc); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	switch {
	case pc.PeftType != "" && pc.PeftType != "LORA":
		return nil, fmt.Errorf("%s: peft_type %q is not LORA", path, pc.PeftType)
	case pc.UseDoRA || pc.FanInFanOut:
		return nil, fmt.Errorf("%s: DoRA and fan_in_fan_out adapters are not supported", path)
	case pc.Bias != "" && pc.Bias != "none":
		return nil, fmt.Errorf("%s: LoRA bias %q is not supported", path, pc.Bias)
	case pc.R <= 0:
		return nil, fmt.Errorf("%s: r must be positive", path)
	}
	var targets []string
	switch t := pc.TargetModules.(type) {
	case string:
		targets = []string{t}
		if t == "all-linear" {
			targets = AllTargets
		}
	case []any:
		for _, x := range t {
			s, _ := x.(string)
			targets = append(targets, s)
		}
	}
	a, err := m.AddAdapter(name, pc.R, pc.LoraAlpha, targets, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	a.RSLoRA = pc.UseRSLoRA
	fail := func(err error) (*Adapter, error) {
		m.RemoveAdapter(name)
		return nil, err
	}
	set, err := safetensors.OpenSet(filepath.Join(dir, "adapter_model.safetensors"))
	if err != nil {
		return fail(fmt.Errorf("adapter %s: %w", dir, notExist(err)))
	}
	defer set.Close()
	for _, p := range a.Params() {
		info, ok := set.Info(p.Name)
		if !ok {
			return fail(fmt.Errorf("adapter %s: missing tensor %q", dir, p.Name))
		}
		if !slices.Equal(info.Shape, p.Shape) {
			return fail(fmt.Errorf("adapter %s: tensor %q has shape %v, want %v", dir, p.Name, info.Shape, p.Shape))
		}
		d, err := set.Float32(p.Name)
		if err != nil {
			return fail(err)
		}
		copy(p.Data, d)
	}
	a.Trainable = false
	return a, nil
}

// SaveAdapter writes adapter name in PEFT's format, which PEFT's
// PeftModel.from_pretrained reads.
func (m *Model) SaveAdapter(dir, name string) error {
	a := m.Adapter(name)
	if a == nil {
		return fmt.Errorf("no adapter %q", name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	pc := peftConfig{PeftType: "LORA", R: a.Rank, LoraAlpha: a.Alpha, TargetModules: a.Targets,
		UseRSLoRA: a.RSLoRA, Bias: "none", TaskType: "CAUSAL_LM"}
	b, err := json.MarshalIndent(&pc, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "adapter_config.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	var ts []safetensors.Tensor
	for _, p := range a.Params() {
		ts = append(ts, safetensors.Tensor{Name: p.Name, DType: safetensors.F32, Shape: p.Shape, F32: p.Data})
	}
	return safetensors.Write(filepath.Join(dir, "adapter_model.safetensors"), ts, map[string]string{"format": "pt"})
}
