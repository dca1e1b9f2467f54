package train

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/aegis-safety/aegis/native/jsonl"
	"github.com/aegis-safety/aegis/native/model"
	"github.com/aegis-safety/aegis/native/rundir"
	"github.com/aegis-safety/aegis/native/safetensors"
)

// A checkpoint is a folder checkpoint-<step> in the run folder holding
// trainable.safetensors (the trainable tensors by name), optimizer.safetensors (the
// optimizer's state) and trainer_state.json (the step and the data cursor with its RNG).
// It is written under a temporary name and renamed into place, so a crash leaves either
// the old checkpoint or the new one, never half of one.

type trainerState struct {
	Step   int    `json:"global_step"`
	Total  int    `json:"max_steps"`
	Method string `json:"method"`
	Cursor cursor `json:"cursor"`
}

// Checkpoint writes the run's state as checkpoint-<step>, then drops the oldest
// checkpoints beyond SaveLimit (0 keeps them all).
func (t *Trainer) Checkpoint() error {
	name := rundir.Checkpoint(t.step)
	final := filepath.Join(t.Dir, name)
	if t.lastCkpt == t.step {
		if _, err := os.Stat(filepath.Join(final, "trainer_state.json")); err == nil {
			return nil // written or resumed from at this very step: nothing has changed since
		}
	}
	tmp := filepath.Join(t.Dir, ".tmp-"+name)
	os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	var ts []safetensors.Tensor
	for _, p := range t.params {
		ts = append(ts, safetensors.Tensor{Name: p.Name, DType: safetensors.F32, Shape: p.Shape, F32: p.Data})
	}
	if err := safetensors.Write(filepath.Join(tmp, "trainable.safetensors"), ts, nil); err != nil {
		return err
	}
	ts = ts[:0]
	st := t.opt.State()
	keys := make([]string, 0, len(st))
	for k := range st {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ts = append(ts, safetensors.Tensor{Name: k, DType: safetensors.F32, Shape: []int{len(st[k])}, F32: st[k]})
	}
	if err := safetensors.Write(filepath.Join(tmp, "optimizer.safetensors"), ts, nil); err != nil {
		return err
	}
	cur := t.cur
	var err error
	if cur.RNG, err = t.cur.rng.MarshalBinary(); err != nil {
		return err
	}
	b, _ := json.Marshal(&trainerState{Step: t.step, Total: t.total, Method: t.Cfg.Method, Cursor: cur})
	if err := os.WriteFile(filepath.Join(tmp, "trainer_state.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	if err := syncDir(tmp); err != nil {
		return err
	}
	os.RemoveAll(final)
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	if err := syncPath(t.Dir); err != nil {
		return err
	}
	t.lastCkpt = t.step
	if t.Cfg.SaveLimit > 0 {
		steps := checkpoints(t.Dir)
		for len(steps) > t.Cfg.SaveLimit {
			os.RemoveAll(filepath.Join(t.Dir, rundir.Checkpoint(steps[0])))
			steps = steps[1:]
		}
	}
	return nil
}

// checkpoints lists the steps of the run folder's checkpoints, ascending.
func checkpoints(dir string) []int {
	ents, _ := os.ReadDir(dir)
	var steps []int
	for _, e := range ents {
		if n, ok := rundir.CheckpointStep(e.Name()); ok && e.IsDir() {
			steps = append(steps, n)
		}
	}
	slices.Sort(steps)
	return steps
}

// Resume restores the newest intact checkpoint of the run folder: trainable tensors,
// optimizer state, step and data cursor; events.jsonl is cut back to that step. The run
// then continues exactly as if it had not stopped. It returns the step resumed from.
//
// A checkpoint that cannot be read (a damaged or truncated file, non-finite weights) is
// passed over for the one before it: Warn (when set) is told, and the damaged one is
// moved aside as checkpoint-N.corrupt so that it is neither resumed from nor kept in
// place of a good one. A run without a checkpoint (interrupted before its first step)
// starts from the beginning. A checkpoint of another method or another data set is an
// error.
func (t *Trainer) Resume() (int, error) {
	steps := checkpoints(t.Dir)
	var bad []int
	var badErr []error
	for k := len(steps) - 1; k >= 0; k-- {
		if steps[k] == 0 {
			continue // written by an interruption before the first step: nothing to restore
		}
		dir := filepath.Join(t.Dir, rundir.Checkpoint(steps[k]))
		err := t.loadCheckpoint(dir)
		var fatal fatalResume
		if errors.As(err, &fatal) {
			return 0, err
		}
		if err != nil {
			bad, badErr = append(bad, steps[k]), append(badErr, err)
			continue
		}
		for i, s := range bad {
			name := rundir.Checkpoint(s)
			os.Rename(filepath.Join(t.Dir, name), filepath.Join(t.Dir, name+".corrupt"))
			t.warn(fmt.Sprintf("%s is damaged (%v): moved aside as %s.corrupt; resuming from %s instead",
				filepath.Join(t.Dir, name), oneLine(badErr[i]), name, rundir.Checkpoint(t.step)))
		}
		return t.step, truncateEvents(filepath.Join(t.Dir, rundir.EventsFile), t.step)
	}
	if len(bad) > 0 {
		return 0, fmt.Errorf("%s: no intact checkpoint to resume from: %s: %v", t.Dir, rundir.Checkpoint(bad[0]), badErr[0])
	}
	// Interrupted before its first step: start from the beginning.
	t.warn(fmt.Sprintf("%s has no checkpoint (interrupted before its first step): starting from step 0", t.Dir))
	return 0, truncateEvents(filepath.Join(t.Dir, rundir.EventsFile), 0)
}

// fatalResume is a checkpoint that is intact but not of this run: resuming stops there
// rather than falling back to an older one.
type fatalResume struct{ error }

func (t *Trainer) warn(msg string) {
	if t.Warn != nil {
		t.Warn(msg)
	}
}

// oneLine joins an error's lines, for a warning.
func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }

// loadCheckpoint restores the checkpoint folder dir. Everything is read and checked
// before the trainer changes, so that a damaged checkpoint leaves it as it was.
func (t *Trainer) loadCheckpoint(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "trainer_state.json"))
	if err != nil {
		return err
	}
	var st trainerState
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("trainer_state.json: %v", err)
	}
	if st.Method != t.Cfg.Method {
		return fatalResume{fmt.Errorf("%s was a %s run, not %s", t.Dir, st.Method, t.Cfg.Method)}
	}
	if len(st.Cursor.Perm) != len(t.Data) {
		return fatalResume{fmt.Errorf("%s: the checkpoint is for %d examples, the data has %d", dir, len(st.Cursor.Perm), len(t.Data))}
	}
	rng := new(rand.PCG)
	if err := rng.UnmarshalBinary(st.Cursor.RNG); err != nil {
		return fmt.Errorf("RNG state: %v", err)
	}
	set, err := safetensors.OpenSet(filepath.Join(dir, "trainable.safetensors"))
	if err != nil {
		return err
	}
	defer set.Close()
	weights := make([][]float32, len(t.params))
	for i, p := range t.params {
		if weights[i], err = readParam(set, p); err != nil {
			return err
		}
		for _, v := range weights[i] {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("tensor %q holds non-finite values", p.Name)
			}
		}
	}
	oset, err := safetensors.OpenSet(filepath.Join(dir, "optimizer.safetensors"))
	if err != nil {
		return err
	}
	defer oset.Close()
	state := map[string][]float32{}
	for _, name := range oset.Names() {
		if state[name], err = oset.Float32(name); err != nil {
			return err
		}
	}
	if err := t.opt.LoadState(state); err != nil { // changes the optimizer only on success
		return err
	}
	for i, p := range t.params {
		copy(p.Data, weights[i])
	}
	t.cur = st.Cursor
	t.cur.rng = rng
	t.step = st.Step
	t.lastCkpt = st.Step
	return nil
}

// readParam reads p's tensor from a checkpoint, checking its name and shape.
func readParam(set *safetensors.Set, p *model.Param) ([]float32, error) {
	info, ok := set.Info(p.Name)
	if !ok {
		return nil, fmt.Errorf("missing tensor %q", p.Name)
	}
	if !slices.Equal(info.Shape, p.Shape) {
		return nil, fmt.Errorf("tensor %q has shape %v, want %v", p.Name, info.Shape, p.Shape)
	}
	return set.Float32(p.Name)
}

// truncateEvents keeps the events of steps up to step, dropping those a crash or
// interruption logged after the checkpoint (and a torn last line).
func truncateEvents(path string, step int) error {
	var keep bytes.Buffer
	err := jsonl.Each(path, func(_ string, line []byte) error {
		var e struct{ Step int }
		if json.Unmarshal(line, &e) == nil && e.Step <= step {
			keep.Write(line)
			keep.WriteByte('\n')
		}
		return nil
	})
	if os.IsNotExist(err) {
		return nil
	} else if err != nil {
		return err
	}
	return jsonl.WriteBytes(path, keep.Bytes())
}

// syncPath flushes a file or folder (a folder: its entries, so a rename into it is
// durable) to disk.
func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	f.Close()
	return err
}

// syncDir flushes a folder's files to disk before it is renamed into place.
func syncDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// tokenizerFiles are copied from the model folder into a full-model result.
var tokenizerFiles = []string{"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json", "chat_template.jinja"}

// SaveFinal writes the result to dir (replacing it atomically): the fitted security
// vector, or the LoRA adapter, as a PEFT folder; with Full or merge, an HF model folder
// (model.safetensors in float32, config.json, and the tokenizer files found in
// modelDir). A security vector used during training is never part of the result.
func (t *Trainer) SaveFinal(dir string, merge bool, modelDir string) error {
	tmp := filepath.Join(filepath.Dir(dir), ".tmp-"+filepath.Base(dir))
	os.RemoveAll(tmp)
	m := t.Model
	var err error
	switch {
	case t.Cfg.method().SecurityVector:
		if err = m.SaveAdapter(tmp, SecurityVectorName); err == nil {
			err = setBaseModel(tmp, modelDir)
		}
	case !t.Cfg.Full && !merge:
		if err = m.SaveAdapter(tmp, AdapterName); err == nil {
			err = setBaseModel(tmp, modelDir)
		}
	default:
		if m.Adapter(SecurityVectorName) != nil {
			if err := m.RemoveAdapter(SecurityVectorName); err != nil {
				return err
			}
		}
		if !t.Cfg.Full {
			if err := m.MergeAdapter(AdapterName); err != nil {
				return err
			}
		}
		if err = m.Save(tmp, "float32"); err != nil {
			break
		}
		for _, f := range tokenizerFiles {
			if err = copyFile(filepath.Join(modelDir, f), filepath.Join(tmp, f)); err != nil {
				break
			}
		}
	}
	if err != nil {
		return err
	}
	if err := syncDir(tmp); err != nil {
		return err
	}
	os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		return err
	}
	return syncPath(filepath.Dir(dir))
}

// setBaseModel records the base model's folder in a PEFT adapter's adapter_config.json
// as base_model_name_or_path, as PEFT does, so that PEFT's AutoPeftModelForCausalLM can
// find the base.
func setBaseModel(dir, modelDir string) error {
	if modelDir == "" {
		return nil
	}
	abs, err := filepath.Abs(modelDir)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "adapter_config.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var cfg map[string]any
	if err := json.Unmarshal(b, &cfg); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	cfg["base_model_name_or_path"] = abs
	if b, err = json.MarshalIndent(cfg, "", "  "); err != nil {
		return err
	}
	return jsonl.WriteBytes(path, append(b, '\n'))
}

// copyFile copies src to dst; a missing src is not an error.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if os.IsNotExist(err) {
		return nil
	} else if err != nil {
		return err
	}
	defer in.Close()
	out, err := jsonl.Create(dst)
	if err != nil {
		return err
	}
	defer out.Abort()
	if _, err := io.Copy(out, in); err != nil {
		return err
	}
	return out.Commit()
}
