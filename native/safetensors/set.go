package safetensors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aegis-safety/aegis/native/regfile"
)

// The file names transformers uses for the shard index and for an unsharded model.
const (
	indexName  = "model.safetensors.index.json"
	singleName = "model.safetensors"
)

// Set is a group of safetensors files read as one, such as the shards of a model. Each
// tensor name belongs to exactly one file.
type Set struct {
	label string // the model directory, or the file paths, for error messages
	files []*File
	owner map[string]*File
	names []string
}

// OpenModel opens the model in dir: the shards listed by dir/model.safetensors.index.json
// if it exists, otherwise dir/model.safetensors. The index must name plain files in dir,
// and it must list exactly the tensors those files hold.
func OpenModel(dir string) (*Set, error) {
	indexPath := filepath.Join(dir, indexName)
	data, err := regfile.ReadFile(indexPath)
	if errors.Is(err, fs.ErrNotExist) {
		return OpenSet(filepath.Join(dir, singleName))
	}
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	weightMap, err := parseIndex(indexPath, data)
	if err != nil {
		return nil, err
	}
	shards := slices.Compact(slices.Sorted(maps.Values(weightMap)))
	paths := make([]string, len(shards))
	for i, shard := range shards {
		paths[i] = filepath.Join(dir, shard)
	}
	s, err := openSet(dir, paths)
	if err != nil {
		return nil, err
	}
	for _, name := range s.names {
		if _, ok := weightMap[name]; !ok {
			err = errorf(s.owner[name].path, name, "not listed in %s", indexPath)
			break
		}
	}
	if err == nil {
		for _, name := range slices.Sorted(maps.Keys(weightMap)) {
			want := filepath.Join(dir, weightMap[name])
			f, ok := s.owner[name]
			if !ok {
				err = errorf(want, name, "listed in %s but not in the file", indexPath)
				break
			}
			if f.path != want {
				err = errorf(want, name, "listed in %s but held by %s", indexPath, f.path)
				break
			}
		}
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// parseIndex returns the weight_map of an index file, rejecting duplicate tensor names
// and shard names that are not plain file names.
func parseIndex(path string, data []byte) (map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	bad := func(format string, args ...any) (map[string]string, error) {
		return nil, errorf(path, "", format, args...)
	}
	tok, err := token(dec)
	if err != nil {
		return bad("invalid JSON: %v", err)
	}
	if tok != json.Delim('{') {
		return bad("not a JSON object")
	}
	var weightMap map[string]string
	for dec.More() {
		tok, err := token(dec)
		if err != nil {
			return bad("invalid JSON: %v", err)
		}
		if tok != "weight_map" {
			if err := skipValue(dec); err != nil {
				return bad("invalid JSON: %v", err)
			}
			continue
		}
		if weightMap != nil {
			return bad("duplicate weight_map")
		}
		if tok, err = token(dec); err != nil {
			return bad("invalid JSON: %v", err)
		}
		if tok != json.Delim('{') {
			return bad("weight_map is not a JSON object")
		}
		weightMap = make(map[string]string)
		for dec.More() {
			tok, err := token(dec)
			if err != nil {
				return bad("invalid JSON: %v", err)
			}
			name, _ := tok.(string)
			if tok, err = token(dec); err != nil {
				return bad("invalid JSON: %v", err)
			}
			shard, ok := tok.(string)
			if !ok {
				return nil, errorf(path, name, "weight_map value is not a string")
			}
			if _, dup := weightMap[name]; dup {
				return nil, errorf(path, name, "listed twice in weight_map")
			}
			if !isPlainName(shard) {
				return nil, errorf(path, name, "shard %q is not a plain file name", shard)
			}
			weightMap[name] = shard
		}
		if _, err := token(dec); err != nil {
			return bad("invalid JSON: %v", err)
		}
	}
	if _, err := token(dec); err != nil {
		return bad("invalid JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return bad("invalid JSON: data after the top-level object")
	}
	if len(weightMap) == 0 {
		return bad("no weight_map, or an empty one")
	}
	return weightMap, nil
}

// isPlainName reports whether name is a file name inside a directory, whatever the
// system: no separators of either kind, no "." or "..", no volume name.
func isPlainName(name string) bool {
	return name != "" && name != "." && name != ".." &&
		!strings.ContainsAny(name, `/\:`+"\x00") && filepath.IsLocal(name)
}

// OpenSet opens the given files as one set. A tensor name may appear in only one file.
func OpenSet(paths ...string) (*Set, error) {
	return openSet(strings.Join(paths, ", "), paths)
}

func openSet(label string, paths []string) (*Set, error) {
	if len(paths) == 0 {
		return nil, errors.New("safetensors: no files to open")
	}
	s := &Set{label: label, owner: make(map[string]*File)}
	for _, p := range paths {
		f, err := Open(p)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.files = append(s.files, f)
		for _, name := range f.Names() {
			if g, dup := s.owner[name]; dup {
				s.Close()
				return nil, errorf(p, name, "also in %s", g.path)
			}
			s.owner[name] = f
			s.names = append(s.names, name)
		}
	}
	slices.Sort(s.names)
	return s, nil
}

// Close closes every file of the set.
func (s *Set) Close() error {
	var errs []error
	for _, f := range s.files {
		errs = append(errs, f.Close())
	}
	s.files = nil
	return errors.Join(errs...)
}

// Names returns the tensor names of all files, sorted.
func (s *Set) Names() []string { return slices.Clone(s.names) }

// Has reports whether some file of the set holds the named tensor.
func (s *Set) Has(name string) bool {
	_, ok := s.owner[name]
	return ok
}

// Info describes the named tensor.
func (s *Set) Info(name string) (TensorInfo, bool) {
	f, ok := s.owner[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.Info(name)
}

// Raw returns the bytes of the named tensor, as File.Raw does.
func (s *Set) Raw(name string) ([]byte, error) {
	f, err := s.file(name)
	if err != nil {
		return nil, err
	}
	return f.Raw(name)
}

// Float32 returns the named tensor as float32 values, as File.Float32 does.
func (s *Set) Float32(name string) ([]float32, error) {
	f, err := s.file(name)
	if err != nil {
		return nil, err
	}
	return f.Float32(name)
}

// BF16 returns the named tensor as bfloat16 bits, as File.BF16 does.
func (s *Set) BF16(name string) ([]uint16, error) {
	f, err := s.file(name)
	if err != nil {
		return nil, err
	}
	return f.BF16(name)
}

func (s *Set) file(name string) (*File, error) {
	f, ok := s.owner[name]
	if !ok {
		return nil, errorf(s.label, name, "not found")
	}
	return f, nil
}
