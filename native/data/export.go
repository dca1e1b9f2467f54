package data

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aegis-safety/aegis/native/jsonl"
)

// ExportFormats are the formats Export writes:
//   - trl: TRL's standard preference rows {"prompt","chosen","rejected"}, all strings;
//   - trl-conversational: the same keys as message lists, the prompt's turns in "prompt"
//     and one assistant message in "chosen" and "rejected";
//   - openrlhf: {"chosen","rejected"} as whole conversations (prompt turns plus the
//     answer), what OpenRLHF's reward and DPO trainers read with --apply_chat_template
//     --chosen_key chosen --rejected_key rejected.
var ExportFormats = []string{"trl", "trl-conversational", "openrlhf"}

// ReadPairs reads preference pairs (strings or conversational), FILE:LINE on a bad row.
func ReadPairs(path string) ([]Pair, error) {
	var out []Pair
	err := jsonl.Each(path, func(pos string, line []byte) error {
		var raw map[string]json.RawMessage
		if err := jsonl.Decode(line, &raw); err != nil {
			return fmt.Errorf("%s: not a JSON object: %v", pos, err)
		}
		_, pair, err := prefRow("trl", pos, raw)
		if err != nil {
			return fmt.Errorf("%s: %v", pos, err)
		}
		var extra struct{ ID, Category, Attack, Split string }
		json.Unmarshal(line, &extra)
		pair.ID, pair.Category, pair.Attack, pair.Split = extra.ID, extra.Category, extra.Attack, extra.Split
		pair.pos = pos
		out = append(out, *pair)
		return nil
	})
	return out, err
}

// asMessages turns a prompt or answer into messages (a string becomes one message of role).
func asMessages(v any, role string) []message {
	switch x := v.(type) {
	case string:
		return []message{{role, x}}
	case []message:
		return x
	}
	return nil
}

// asText turns a prompt or answer into a string; a conversation flattens only when it is a
// single message of the expected role.
func asText(v any, role string) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case []message:
		if len(x) == 1 && x[0].Role == role {
			return x[0].Content, nil
		}
		roles := make([]string, len(x))
		for i, m := range x {
			roles[i] = m.Role
		}
		return "", fmt.Errorf("a conversation (%s) does not flatten to a %s string: use trl-conversational", strings.Join(roles, ", "), role)
	}
	return "", errors.New("neither a string nor messages")
}

// Export converts pairs to rows of a training framework's format.
func Export(format string, pairs []Pair) ([]any, error) {
	out := make([]any, 0, len(pairs))
	for i, p := range pairs {
		where := p.pos // FILE:LINE when the pair was read from a file
		if where == "" {
			where = fmt.Sprintf("pair %d", i+1)
		}
		var row any
		switch format {
		case "trl":
			pr, err := asText(p.Prompt, "user")
			if err != nil {
				return nil, fmt.Errorf("%s: prompt: %v", where, err)
			}
			ch, err := asText(p.Chosen, "assistant")
			if err != nil {
				return nil, fmt.Errorf("%s: chosen: %v", where, err)
			}
			rj, err := asText(p.Rejected, "assistant")
			if err != nil {
				return nil, fmt.Errorf("%s: rejected: %v", where, err)
			}
			row = map[string]string{"prompt": pr, "chosen": ch, "rejected": rj}
		case "trl-conversational":
			row = map[string][]message{"prompt": asMessages(p.Prompt, "user"),
				"chosen": asMessages(p.Chosen, "assistant"), "rejected": asMessages(p.Rejected, "assistant")}
		case "openrlhf":
			pm := asMessages(p.Prompt, "user")
			row = map[string][]message{
				"chosen":   append(append([]message{}, pm...), asMessages(p.Chosen, "assistant")...),
				"rejected": append(append([]message{}, pm...), asMessages(p.Rejected, "assistant")...)}
		default:
			return nil, fmt.Errorf("unknown export format %q (%s)", format, strings.Join(ExportFormats, ", "))
		}
		out = append(out, row)
	}
	return out, nil
}
