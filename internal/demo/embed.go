package demo

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// modelFS is the embedded organism: config.json, model.safetensors (bfloat16),
// tokenizer.json, tokenizer_config.json and recipe.json, as `aegis demo pretrain --out
// internal/demo/model` wrote them.
//
//go:embed model
var modelFS embed.FS

// ModelName is how the embedded model is named in reports and on /v1/models.
const ModelName = "aegis-organism"

// ModelDir returns a folder named ModelName holding the embedded model, unpacking it on
// first use under the user's cache folder (a parent folder per content hash, so a new
// build never reads an old model). Loading needs a real folder: safetensors are memory-mapped.
func ModelDir() (string, error) {
	files, err := fs.ReadDir(modelFS, "model")
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, f := range files {
		b, err := modelFS.ReadFile("model/" + f.Name())
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", f.Name(), len(b))
		h.Write(b)
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	// The folder is named after the model, which is how /v1/models and reports name it.
	dir := filepath.Join(base, "aegis", "demo-model-"+hex.EncodeToString(h.Sum(nil))[:16], ModelName)
	if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); err == nil {
		return dir, nil
	}
	// Unpack into a temporary folder and rename it into place, so a reader never sees a
	// half-written model.
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".demo-model-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	for _, f := range files {
		b, _ := modelFS.ReadFile("model/" + f.Name())
		if err := os.WriteFile(filepath.Join(tmp, f.Name()), b, 0o644); err != nil {
			return "", err
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(filepath.Join(dir, "model.safetensors")); statErr == nil {
			return dir, nil // another process unpacked it first
		}
		return "", err
	}
	return dir, nil
}
