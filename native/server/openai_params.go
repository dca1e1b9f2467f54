package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
)

// Reading /v1 request bodies. Each endpoint lists the parameters it implements; every
// other member of the body is refused with a 400 naming it, so a client never gets an
// answer that silently ignored part of its request. A member set to null counts as
// absent (OpenAI's reading). Type errors name the parameter and what it must be, in
// OpenAI's words, never Go's.

// known are OpenAI parameters that no aegis endpoint implements: refusing them says so
// rather than calling them unrecognized.
var known = []string{"audio", "best_of", "frequency_penalty", "function_call", "functions", "logit_bias", "metadata",
	"modalities", "parallel_tool_calls", "prediction", "presence_penalty", "prompt_cache_key", "reasoning_effort",
	"response_format", "safety_identifier", "service_tier", "store", "suffix", "tool_choice", "tools", "user",
	"verbosity", "web_search_options"}

// object is a JSON object being read member by member; done refuses what was not read.
type object struct {
	path    string // where the object is in the body: "" for the body, "messages[2]"
	members map[string]json.RawMessage
	taken   map[string]bool
}

// readObject reads raw as a JSON object at path.
func readObject(path string, raw json.RawMessage) (*object, *apiError) {
	if k := jsonKind(raw); k != "an object" {
		what := "the request body"
		if path != "" {
			what = "'" + path + "'"
		}
		return nil, apiErr(http.StatusBadRequest, "invalid_request_error", path, "invalid_type",
			fmt.Sprintf("Invalid type for %s: expected an object, but got %s instead.", what, k))
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil { // raw is valid JSON: cannot fail
		return nil, invalid(path, "%s is not a JSON object", path)
	}
	return &object{path: path, members: m, taken: map[string]bool{}}, nil
}

// name is the parameter's name as errors show it.
func (o *object) name(member string) string {
	if o.path == "" {
		return member
	}
	return o.path + "." + member
}

// raw returns member's value, marking it read; ok is false when it is absent or null.
func (o *object) raw(member string) (json.RawMessage, bool) {
	o.taken[member] = true
	v, ok := o.members[member]
	if !ok || string(v) == "null" {
		return nil, false
	}
	return v, true
}

// get decodes member into dst (a pointer to a string, bool, int, int64 or float64
// variable, or to a pointer to one), leaving dst as it is when the member is absent.
func (o *object) get(member string, dst any) *apiError {
	v, ok := o.raw(member)
	if !ok {
		return nil
	}
	if err := json.Unmarshal(v, dst); err != nil {
		return typeError(o.name(member), wantKind(dst), v)
	}
	return nil
}

// onlyDefault reads a parameter the server does not implement but accepts at its
// OpenAI default (what clients such as promptfoo send when nothing is configured).
func (o *object) onlyDefault(member string, def float64, why string) *apiError {
	var f *float64
	if e := o.get(member, &f); e != nil {
		return e
	}
	if f != nil && *f != def {
		return apiErr(http.StatusBadRequest, "invalid_request_error", o.name(member), "unsupported_value",
			fmt.Sprintf("Unsupported value: '%s' must be %g here (%s).", o.name(member), def, why))
	}
	return nil
}

// done refuses the members not read, first in name order.
func (o *object) done() *apiError {
	var left []string
	for k, v := range o.members {
		if !o.taken[k] && string(v) != "null" {
			left = append(left, k)
		}
	}
	if len(left) == 0 {
		return nil
	}
	slices.Sort(left)
	k := o.name(left[0])
	if o.path == "" && slices.Contains(known, left[0]) {
		return apiErr(http.StatusBadRequest, "invalid_request_error", k, "unsupported_parameter",
			fmt.Sprintf("Unsupported parameter: '%s' is not supported by this server (aegis serve).", k))
	}
	return apiErr(http.StatusBadRequest, "invalid_request_error", k, "unknown_parameter",
		fmt.Sprintf("Unrecognized request argument supplied: '%s'.", k))
}

// typeError says that param holds a value of the wrong JSON type.
func typeError(param, want string, v json.RawMessage) *apiError {
	got := jsonKind(v)
	msg := fmt.Sprintf("Invalid type for '%s': expected %s, but got %s instead.", param, want, got)
	if got == "a number" && (want == "an integer" || want == "a number") {
		msg = fmt.Sprintf("Invalid value for '%s': expected %s, but got %s.", param, want, v)
		if want == "a number" {
			msg = fmt.Sprintf("Invalid value for '%s': %s is out of range.", param, v)
		}
	}
	return apiErr(http.StatusBadRequest, "invalid_request_error", param, "invalid_type", msg)
}

// jsonKind names the JSON type of v.
func jsonKind(v json.RawMessage) string {
	s := strings.TrimLeft(string(v), " \t\r\n")
	if s == "" {
		return "nothing"
	}
	switch s[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// wantKind names the JSON type dst decodes.
func wantKind(dst any) string {
	switch dst.(type) {
	case *string, **string:
		return "a string"
	case *bool, **bool:
		return "a boolean"
	case *int, **int, *int64, **int64:
		return "an integer"
	case *float64, **float64:
		return "a number"
	}
	return "a value of another type"
}

// readBody reads a JSON request body of at most limit bytes as an object.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) (*object, *apiError) {
	bodyRead := limitBody(w, r, limit)
	var raw json.RawMessage
	dec := json.NewDecoder(r.Body)
	err := dec.Decode(&raw)
	if err == nil && dec.More() {
		err = errors.New("more than one JSON value")
	}
	bodyRead()
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge(mbe.Limit)
		}
		var se *json.SyntaxError
		msg := err.Error()
		if errors.As(err, &se) {
			msg = fmt.Sprintf("%v (at byte %d)", strings.TrimPrefix(se.Error(), "json: "), se.Offset)
		} else if errors.Is(err, os.ErrDeadlineExceeded) {
			msg = fmt.Sprintf("the body did not arrive within %v", bodyWait)
		} else if errors.Is(err, io.EOF) {
			msg = "the body is empty"
		} else if errors.Is(err, io.ErrUnexpectedEOF) {
			msg = "the body ended before the JSON value did"
		}
		return nil, apiErr(http.StatusBadRequest, "invalid_request_error", "", "",
			"We could not parse the JSON body of your request: "+msg+". The API expects a JSON object.")
	}
	return readObject("", raw)
}

// tooLarge is the 413 of a body over limit bytes.
func tooLarge(limit int64) *apiError {
	return apiErr(http.StatusRequestEntityTooLarge, "invalid_request_error", "", "request_too_large",
		fmt.Sprintf("The request body is larger than %d bytes, this server's limit.", limit))
}

// stopStrings reads "stop": absent or null, a string, or a list of at most 4 strings.
func stopStrings(o *object) ([]string, *apiError) {
	raw, ok := o.raw("stop")
	if !ok {
		return nil, nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		if one == "" {
			return nil, nil
		}
		return []string{one}, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, apiErr(http.StatusBadRequest, "invalid_request_error", "stop", "invalid_type",
			fmt.Sprintf("Invalid type for 'stop': expected a string or an array of strings, but got %s instead.", jsonKind(raw)))
	}
	if len(list) > 4 {
		return nil, invalid("stop", "'stop' takes at most 4 sequences; got %d.", len(list))
	}
	var out []string
	for _, s := range list {
		if s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// streamOptions reads "stream_options" ({"include_usage": bool}), which needs stream.
func streamOptions(o *object, stream bool) (includeUsage bool, e *apiError) {
	raw, ok := o.raw("stream_options")
	if !ok {
		return false, nil
	}
	so, e := readObject("stream_options", raw)
	if e != nil {
		return false, e
	}
	if e := so.get("include_usage", &includeUsage); e != nil {
		return false, e
	}
	if e := so.done(); e != nil {
		return false, e
	}
	if !stream {
		return false, invalid("stream_options", "'stream_options' is only allowed when 'stream' is true.")
	}
	return includeUsage, nil
}
