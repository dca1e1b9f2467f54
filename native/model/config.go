package model

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/aegis-safety/aegis/native/regfile"
)

// Config is the subset of a Hugging Face config.json that defines the computation.
type Config struct {
	Architectures     []string `json:"architectures,omitempty"`
	ModelType         string   `json:"model_type"`
	VocabSize         int      `json:"vocab_size"`
	HiddenSize        int      `json:"hidden_size"`
	IntermediateSize  int      `json:"intermediate_size"`
	NumLayers         int      `json:"num_hidden_layers"`
	NumHeads          int      `json:"num_attention_heads"`
	NumKVHeads        int      `json:"num_key_value_heads,omitempty"`
	HeadDim           int      `json:"head_dim,omitempty"`
	MaxPositions      int      `json:"max_position_embeddings,omitempty"`
	RMSNormEps        float64  `json:"rms_norm_eps"`
	RopeTheta         float64  `json:"rope_theta,omitempty"`
	RopeScaling       *Scaling `json:"rope_scaling,omitempty"`
	TieWordEmbeddings bool     `json:"tie_word_embeddings"`
	HiddenAct         string   `json:"hidden_act,omitempty"`
	AttentionBias     bool     `json:"attention_bias,omitempty"` // llama: q, k, v and o biases
	MLPBias           bool     `json:"mlp_bias,omitempty"`
	SlidingWindow     *int     `json:"sliding_window,omitempty"`
	UseSlidingWindow  bool     `json:"use_sliding_window,omitempty"` // qwen2
	MaxWindowLayers   int      `json:"max_window_layers,omitempty"`  // qwen2
	LayerTypes        []string `json:"layer_types,omitempty"`
	TorchDtype        string   `json:"torch_dtype,omitempty"`
	BOSTokenID        any      `json:"bos_token_id,omitempty"`
	EOSTokenID        any      `json:"eos_token_id,omitempty"`
	PadTokenID        any      `json:"pad_token_id,omitempty"`
	InitializerRange  float64  `json:"initializer_range,omitempty"`
}

// Scaling is config.json's rope_scaling.
type Scaling struct {
	RopeType                      string  `json:"rope_type,omitempty"`
	Type                          string  `json:"type,omitempty"` // older spelling of rope_type
	Factor                        float64 `json:"factor,omitempty"`
	LowFreqFactor                 float64 `json:"low_freq_factor,omitempty"`
	HighFreqFactor                float64 `json:"high_freq_factor,omitempty"`
	OriginalMaxPositionEmbeddings int     `json:"original_max_position_embeddings,omitempty"`
}

// Kind returns the rope type, "default" when unset.
func (s *Scaling) Kind() string {
	if s == nil {
		return "default"
	}
	if s.RopeType != "" {
		return s.RopeType
	}
	if s.Type != "" {
		return s.Type
	}
	return "default"
}

// LoadConfig reads and validates a config.json.
func LoadConfig(path string) (*Config, error) {
	b, err := regfile.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	// fillDefaults takes a missing rope_theta for transformers' default; one that is
	// written must be positive.
	var given struct {
		RopeTheta *float64 `json:"rope_theta"`
	}
	json.Unmarshal(b, &given)
	if t := given.RopeTheta; t != nil && !(*t > 0) {
		return nil, fmt.Errorf("%s: rope_theta must be positive, got %v", path, *t)
	}
	c.fillDefaults()
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return &c, nil
}

// fillDefaults applies the defaults of the transformers config classes.
func (c *Config) fillDefaults() {
	if c.NumKVHeads == 0 {
		c.NumKVHeads = c.NumHeads
	}
	if c.HeadDim == 0 && c.NumHeads > 0 {
		c.HeadDim = c.HiddenSize / c.NumHeads
	}
	if c.RopeTheta == 0 {
		c.RopeTheta = 10000
	}
	if c.RMSNormEps == 0 {
		c.RMSNormEps = 1e-6
	}
	if c.HiddenAct == "" {
		c.HiddenAct = "silu"
	}
	if c.InitializerRange == 0 {
		c.InitializerRange = 0.02
	}
}

// Validate checks that the config describes a model this package can run.
func (c *Config) Validate() error {
	switch c.ModelType {
	case "llama", "mistral", "qwen2":
	case "":
		return fmt.Errorf("config has no model_type")
	default:
		return fmt.Errorf("unsupported model_type %q (supported: llama, mistral, qwen2)", c.ModelType)
	}
	pos := map[string]int{"vocab_size": c.VocabSize, "hidden_size": c.HiddenSize,
		"intermediate_size": c.IntermediateSize, "num_hidden_layers": c.NumLayers,
		"num_attention_heads": c.NumHeads, "num_key_value_heads": c.NumKVHeads, "head_dim": c.HeadDim}
	for _, k := range []string{"vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
		"num_attention_heads", "num_key_value_heads", "head_dim"} {
		if pos[k] <= 0 {
			return fmt.Errorf("%s must be positive, got %d", k, pos[k])
		}
		if pos[k] > 1<<24 {
			return fmt.Errorf("%s = %d is beyond what this engine supports", k, pos[k])
		}
	}
	if c.NumHeads%c.NumKVHeads != 0 {
		return fmt.Errorf("num_attention_heads %d is not a multiple of num_key_value_heads %d", c.NumHeads, c.NumKVHeads)
	}
	if c.HeadDim%2 != 0 {
		return fmt.Errorf("head_dim %d must be even for rotary embeddings", c.HeadDim)
	}
	if c.HiddenAct != "silu" {
		return fmt.Errorf("unsupported hidden_act %q (supported: silu)", c.HiddenAct)
	}
	if !(c.RMSNormEps > 0) || !(c.RopeTheta > 0) || math.IsInf(c.RopeTheta, 0) {
		return fmt.Errorf("rms_norm_eps and rope_theta must be positive")
	}
	switch k := c.RopeScaling.Kind(); k {
	case "default":
	case "linear":
		if !(c.RopeScaling.Factor > 0) {
			return fmt.Errorf("rope_scaling linear needs a positive factor")
		}
	case "llama3":
		s := c.RopeScaling
		if !(s.Factor > 0) || !(s.LowFreqFactor > 0) || !(s.HighFreqFactor > s.LowFreqFactor) || s.OriginalMaxPositionEmbeddings <= 0 {
			return fmt.Errorf("rope_scaling llama3 needs factor > 0, 0 < low_freq_factor < high_freq_factor and original_max_position_embeddings > 0")
		}
	default:
		return fmt.Errorf("unsupported rope_scaling type %q (supported: default, linear, llama3)", k)
	}
	if c.LayerTypes != nil && len(c.LayerTypes) != c.NumLayers {
		return fmt.Errorf("layer_types has %d entries for %d layers", len(c.LayerTypes), c.NumLayers)
	}
	for _, t := range c.LayerTypes {
		if t != "full_attention" && t != "sliding_attention" {
			return fmt.Errorf("unsupported layer type %q", t)
		}
	}
	if w := c.SlidingWindow; w != nil && *w < 0 {
		return fmt.Errorf("sliding_window must not be negative")
	}
	if c.MaxPositions < 0 {
		return fmt.Errorf("max_position_embeddings must not be negative, got %d", c.MaxPositions)
	}
	if c.MaxWindowLayers < 0 {
		return fmt.Errorf("max_window_layers must not be negative, got %d", c.MaxWindowLayers)
	}
	return nil
}

// CheckLength refuses a sequence of n tokens that does not fit the model's context
// (max_position_embeddings; a config without one sets no limit): positions beyond it
// were never trained, and the cost of attention grows with n².
func (c *Config) CheckLength(n int) error {
	if c.MaxPositions > 0 && n > c.MaxPositions {
		return fmt.Errorf("%d tokens are more than the model's context of %d (max_position_embeddings)", n, c.MaxPositions)
	}
	return nil
}

// QKVBias reports whether the q, k and v projections carry biases.
func (c *Config) QKVBias() bool { return c.ModelType == "qwen2" || c.AttentionBias }

// OBias reports whether o_proj carries a bias (llama's attention_bias; never in qwen2).
func (c *Config) OBias() bool { return c.ModelType != "qwen2" && c.AttentionBias }

// Window returns layer l's sliding attention window, 0 for full attention.
func (c *Config) Window(l int) int {
	if c.SlidingWindow == nil || *c.SlidingWindow == 0 {
		return 0
	}
	w := *c.SlidingWindow
	if c.LayerTypes != nil {
		if c.LayerTypes[l] == "sliding_attention" {
			return w
		}
		return 0
	}
	switch c.ModelType {
	case "mistral":
		return w
	case "qwen2":
		if c.UseSlidingWindow && l >= c.MaxWindowLayers {
			return w
		}
	}
	return 0
}

// InvFreq returns the rotary inverse frequencies (head_dim/2 of them) after rope_scaling,
// computed in float32 the way transformers does so that angles match to the last bit.
func (c *Config) InvFreq() []float32 {
	d := c.HeadDim
	inv := make([]float32, d/2)
	for i := range inv {
		e := float32(2*i) / float32(d)
		inv[i] = 1 / float32(math.Pow(c.RopeTheta, float64(e)))
	}
	s := c.RopeScaling
	switch s.Kind() {
	case "linear":
		for i := range inv {
			inv[i] /= float32(s.Factor)
		}
	case "llama3":
		old := float64(s.OriginalMaxPositionEmbeddings)
		lowWavelen := old / s.LowFreqFactor
		highWavelen := old / s.HighFreqFactor
		for i, f := range inv {
			wavelen := 2 * math.Pi / float64(f)
			switch {
			case wavelen < highWavelen: // high frequency: unchanged
			case wavelen > lowWavelen:
				inv[i] = f / float32(s.Factor)
			default:
				smooth := (old/wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor)
				inv[i] = float32((1-smooth)*float64(f)/s.Factor + smooth*float64(f))
			}
		}
	}
	return inv
}
