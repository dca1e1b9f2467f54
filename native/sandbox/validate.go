package sandbox

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aegis-safety/aegis/shared"
)

// The host checks what a module says before anyone uses it: a manifest's styles, an
// attack module's variants and a judge module's verdict. (The checks live here, not in
// package shared, which the modules themselves are built from.)

// styleNameRule is what ValidStyleName accepts, for error messages.
const styleNameRule = "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"

// ValidStyleName reports whether s can name an attack style: 1 to 64 ASCII letters,
// digits, '.', '_' or '-', starting with a letter or digit. Style names become parts of
// attempt ids, report rows, flags and file names, so nothing else is taken from a module.
func ValidStyleName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// checkManifest is shared.Manifest.Validate plus plain style names.
func checkManifest(m *shared.Manifest) error {
	if err := m.Validate(); err != nil {
		return err
	}
	for _, s := range m.Styles {
		if !ValidStyleName(s) {
			return fmt.Errorf("manifest style %q is not a plain name (%s)", s, styleNameRule)
		}
	}
	return nil
}

// checkAttack refuses an attack output that is not at least one variant, each with a
// non-blank prompt and a style ValidStyleName accepts.
func checkAttack(o *shared.AttackOutput) error {
	if len(o.Variants) == 0 {
		return errors.New("output has no variants")
	}
	for i, v := range o.Variants {
		switch {
		case strings.TrimSpace(v.Prompt) == "":
			return fmt.Errorf("variant %d has an empty prompt", i)
		case !ValidStyleName(v.Style):
			return fmt.Errorf("variant %d has style %q, not a plain name (%s)", i, v.Style, styleNameRule)
		}
	}
	return nil
}

// checkJudge refuses a verdict whose score is outside [0, 1] or whose categories are not
// codes of the taxonomy.
func checkJudge(o *shared.JudgeOutput) error {
	if !(o.Score >= 0 && o.Score <= 1) {
		return fmt.Errorf("score %v is outside [0, 1]", o.Score)
	}
	for _, c := range o.Categories {
		if !shared.ValidCategory(c) {
			return fmt.Errorf("category %q is not in the taxonomy (S1-S14, benign)", c)
		}
	}
	return nil
}
