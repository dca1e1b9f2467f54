package server

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aegis-safety/aegis/native/rundir"
	"github.com/aegis-safety/aegis/web"
)

// The launch form picks models and data from the folders the server knows, by name, and
// the server turns a name into a path: nothing typed in the browser becomes a path.

// NamedDir is a model folder the launch form offers under Name (the embedded model, the
// model /v1 serves), with a note for people.
type NamedDir struct {
	Name, Dir, Note string
}

// modelChoice is a model the launch form offers: a full model folder, or (eval only) a
// run's LoRA adapter over its base.
type modelChoice struct {
	Key, Label, Dir, Adapter string
}

// maxListed bounds each list (a data folder of thousands of files is cut short).
const maxListed = 500

// models lists the models the launch form offers: Options.Models, the model folders in
// Options.ModelsDir, and the finished training runs' final/ folders (full models, and
// LoRA adapters over a base folder that exists).
func (s *Server) models() []modelChoice {
	var out []modelChoice
	seen := map[string]bool{}
	add := func(c modelChoice) {
		if !seen[c.Key] && len(out) < maxListed {
			seen[c.Key] = true
			out = append(out, c)
		}
	}
	for _, m := range s.opt.Models {
		label := m.Name
		if m.Note != "" {
			label += " (" + m.Note + ")"
		}
		add(modelChoice{Key: m.Name, Label: label, Dir: m.Dir})
	}
	if d := s.opt.ModelsDir; d != "" {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			if e.IsDir() && !strings.HasPrefix(e.Name(), ".") && exists(filepath.Join(d, e.Name(), "config.json")) {
				add(modelChoice{Key: "models/" + e.Name(), Label: e.Name(), Dir: filepath.Join(d, e.Name())})
			}
		}
	}
	for _, r := range s.runs.list() {
		final := filepath.Join(s.runs.dir, r.ID, rundir.FinalDir)
		if r.Kind != "train" || r.Status != StatusDone {
			continue
		}
		if exists(filepath.Join(final, "config.json")) {
			add(modelChoice{Key: "runs/" + r.ID, Label: r.ID + " (trained by " + r.Method + ")", Dir: final})
			continue
		}
		var ac struct {
			Base string `json:"base_model_name_or_path"`
		}
		if b, err := os.ReadFile(filepath.Join(final, "adapter_config.json")); err == nil && json.Unmarshal(b, &ac) == nil &&
			ac.Base != "" && exists(filepath.Join(ac.Base, "config.json")) {
			add(modelChoice{Key: "runs/" + r.ID, Label: r.ID + " (" + r.Method + " adapter on " + filepath.Base(ac.Base) + ")", Dir: ac.Base, Adapter: final})
		}
	}
	return out
}

// data lists the JSONL files the launch form offers: those in Options.DataDir (two levels
// deep) and the runs' preference pairs (pairs.jsonl).
func (s *Server) data() []web.Choice {
	var out []web.Choice
	if d := s.opt.DataDir; d != "" {
		filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err != nil || len(out) >= maxListed {
				return filepath.SkipDir
			}
			rel, _ := filepath.Rel(d, p)
			if e.IsDir() {
				if rel != "." && (strings.HasPrefix(e.Name(), ".") || strings.Count(rel, string(filepath.Separator)) >= 1) {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasSuffix(e.Name(), ".jsonl") && e.Type().IsRegular() {
				out = append(out, web.Choice{Key: "data/" + filepath.ToSlash(rel), Label: filepath.ToSlash(rel)})
			}
			return nil
		})
	}
	for _, r := range s.runs.list() {
		if exists(filepath.Join(s.runs.dir, r.ID, rundir.PairsFile)) && len(out) < maxListed {
			out = append(out, web.Choice{Key: "runs/" + r.ID + "/" + rundir.PairsFile, Label: r.ID + "/" + rundir.PairsFile})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if (strings.HasPrefix(out[i].Key, "data/")) != (strings.HasPrefix(out[j].Key, "data/")) {
			return strings.HasPrefix(out[i].Key, "data/")
		}
		return out[i].Key < out[j].Key
	})
	return out
}

// dataPath is the file of a data choice's key ("" if the form did not offer it).
func (s *Server) dataPath(key string) string {
	for _, c := range s.data() {
		if c.Key != key {
			continue
		}
		if rel, ok := strings.CutPrefix(key, "data/"); ok {
			return filepath.Join(s.opt.DataDir, filepath.FromSlash(rel))
		}
		return filepath.Join(s.runs.dir, filepath.FromSlash(strings.TrimPrefix(key, "runs/")))
	}
	return ""
}

// model is the model choice of key (ok false if the form did not offer it).
func (s *Server) model(key string) (modelChoice, bool) {
	for _, m := range s.models() {
		if m.Key == key {
			return m, true
		}
	}
	return modelChoice{}, false
}
