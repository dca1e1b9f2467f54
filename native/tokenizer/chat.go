package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ardanlabs/jinja"
)

// Built-in chat templates for models whose tokenizer_config.json has none.
var builtinTemplates = map[string]string{
	// Llama 3 Instruct (as Meta-Llama-3-8B-Instruct ships it).
	"llama3": `{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>

'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>

' }}{% endif %}`,
	// ChatML (Qwen, many fine-tunes).
	"chatml": `{% for message in messages %}{{'<|im_start|>' + message['role'] + '
' + message['content'] + '<|im_end|>' + '
'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant
' }}{% endif %}`,
	// Mistral Instruct v0.1/v0.2: [INST] turns, an optional system message folded into
	// the first user turn.
	"mistral": `{%- if messages[0]['role'] == 'system' %}{%- set system_message = messages[0]['content'] %}{%- set loop_messages = messages[1:] %}{%- else %}{%- set loop_messages = messages %}{%- endif %}
{{- bos_token }}
{%- for message in loop_messages %}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
        {{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}
    {%- endif %}
    {%- if message['role'] == 'user' %}
        {%- if loop.first and system_message is defined %}
            {{- '[INST] ' + system_message + '\n\n' + message['content'] + ' [/INST]' }}
        {%- else %}
            {{- '[INST] ' + message['content'] + ' [/INST]' }}
        {%- endif %}
    {%- elif message['role'] == 'assistant' %}
        {{- message['content'] + eos_token }}
    {%- else %}
        {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}
    {%- endif %}
{%- endfor %}`,
}

// BuiltinTemplates lists the names of the built-in chat templates.
func BuiltinTemplates() []string {
	names := make([]string, 0, len(builtinTemplates))
	for n := range builtinTemplates {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Message is one chat turn.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// ChatOptions control how a chat template is rendered.
type ChatOptions struct {
	// AddGenerationPrompt ends the text with the header of an assistant turn.
	AddGenerationPrompt bool
	// Template is a built-in template name (llama3, chatml, mistral), a name from a
	// tokenizer_config.json list of templates, or template source; "" uses the
	// tokenizer's own chat_template.
	Template string
	// Tools is an optional JSON list of tool definitions (the template's tools).
	Tools json.RawMessage
	// Vars are extra template variables (date_string, enable_thinking, ...).
	Vars map[string]any
	// Now is strftime_now's clock (time.Now when nil).
	Now func() time.Time
}

var templateCache sync.Map // source → *jinja.Template

// template resolves opt.Template to template source.
func (t *Tokenizer) template(name string) (string, error) {
	c := t.Config
	switch {
	case name == "" && c != nil && c.ChatTemplate != "":
		return c.ChatTemplate, nil
	case name == "":
		return "", fmt.Errorf("the tokenizer has no chat_template (tokenizer_config.json); choose a built-in one: %s", strings.Join(BuiltinTemplates(), ", "))
	case c != nil && c.Templates[name] != "":
		return c.Templates[name], nil
	case builtinTemplates[name] != "":
		return builtinTemplates[name], nil
	case !strings.Contains(name, "{"):
		return "", fmt.Errorf("unknown chat template %q (built-in: %s)", name, strings.Join(BuiltinTemplates(), ", "))
	}
	return name, nil
}

// ApplyChatTemplate renders messages with the chat template, as transformers'
// apply_chat_template(tokenize=False) does.
func (t *Tokenizer) ApplyChatTemplate(messages []Message, opt ChatOptions) (string, error) {
	b, err := json.Marshal(messages)
	if err != nil {
		return "", err
	}
	return t.ApplyChatTemplateJSON(b, opt)
}

// EncodeChat renders messages and tokenizes the text without adding special tokens (the
// template writes them), as apply_chat_template(tokenize=True) does.
func (t *Tokenizer) EncodeChat(messages []Message, opt ChatOptions) (ids []int32, text string, err error) {
	if text, err = t.ApplyChatTemplate(messages, opt); err != nil {
		return nil, "", err
	}
	return t.Encode(text, false), text, nil
}

// HasChatTemplate reports whether the tokenizer carries a chat template.
func (t *Tokenizer) HasChatTemplate() bool {
	c := t.Config
	return c != nil && (c.ChatTemplate != "" || len(c.Templates) > 0)
}

// EncodePrompt encodes one user turn as a model under test receives it: rendered with the
// generation prompt through the chat template (template overrides the tokenizer's when
// set), after a system message when system is set; or, with no template at all, as plain
// text with special tokens, which cannot carry a system message.
func (t *Tokenizer) EncodePrompt(system, prompt, template string) ([]int32, error) {
	if template == "" && !t.HasChatTemplate() {
		if system != "" {
			return nil, errors.New("a system prompt needs a chat template, and the tokenizer has none")
		}
		return t.Encode(prompt, true), nil
	}
	var msgs []Message
	if system != "" {
		msgs = append(msgs, Message{Role: "system", Content: system})
	}
	msgs = append(msgs, Message{Role: "user", Content: prompt})
	ids, _, err := t.EncodeChat(msgs, ChatOptions{AddGenerationPrompt: true, Template: template})
	return ids, err
}

// StopIDs returns eos (a model's eos_token_id) plus the tokenizer's eos_token when it is
// not among them: chat models often end turns with a token config.json does not list.
func (t *Tokenizer) StopIDs(eos []int32) []int32 {
	ids := slices.Clone(eos)
	if c := t.Config; c != nil && c.EOSToken != "" {
		if id, ok := t.TokenID(c.EOSToken); ok && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// ApplyChatTemplateJSON is ApplyChatTemplate for messages given as a JSON list, which may
// carry fields beyond role and content (tool_calls, reasoning_content, ...); object key
// order is kept, as Python dicts keep it.
func (t *Tokenizer) ApplyChatTemplateJSON(messages json.RawMessage, opt ChatOptions) (string, error) {
	src, err := t.template(opt.Template)
	if err != nil {
		return "", err
	}
	var tmpl *jinja.Template
	if v, ok := templateCache.Load(src); ok {
		tmpl = v.(*jinja.Template)
	} else {
		if tmpl, err = jinja.Compile(pyTemplate(src)); err != nil {
			return "", fmt.Errorf("chat template: %v", err)
		}
		templateCache.Store(src, tmpl)
	}
	msgs, err := jsonValue(messages)
	if err != nil {
		return "", fmt.Errorf("messages: %v", err)
	}
	if !msgs.IsList() {
		return "", errors.New("messages: not a list")
	}
	vars := map[string]jinja.Value{
		"messages":              msgs,
		"add_generation_prompt": jinja.NewBool(opt.AddGenerationPrompt),
		"tools":                 jinja.None(),
		"documents":             jinja.None(),
	}
	if len(opt.Tools) > 0 {
		if vars["tools"], err = jsonValue(opt.Tools); err != nil {
			return "", fmt.Errorf("tools: %v", err)
		}
	}
	// transformers passes the special tokens that are set (special_tokens_map).
	if c := t.Config; c != nil {
		for k, v := range map[string]string{"bos_token": c.BOSToken, "eos_token": c.EOSToken, "pad_token": c.PADToken, "unk_token": c.UNKToken} {
			if v != "" {
				vars[k] = jinja.NewString(v)
			}
		}
	}
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	vars["strftime_now"] = jinja.NewCallable("strftime_now", func(args []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
		if len(args) != 1 || !args[0].IsString() {
			return jinja.Undefined(), errors.New("strftime_now takes one format string")
		}
		return jinja.NewString(strftime(now(), args[0].AsString())), nil
	})
	for name, fn := range pyFuncs {
		vars[name] = jinja.NewCallable(name, fn)
	}
	for k, v := range opt.Vars {
		b, err := json.Marshal(v)
		if err != nil {
			return "", fmt.Errorf("variable %s: %v", k, err)
		}
		if vars[k], err = jsonValue(b); err != nil {
			return "", fmt.Errorf("variable %s: %v", k, err)
		}
	}
	out, err := tmpl.RenderValues(vars)
	if err != nil {
		return "", fmt.Errorf("chat template: %v", err)
	}
	return out, nil
}

// strftime formats t with Python's strftime directives (the common ones).
func strftime(t time.Time, f string) string {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 == len(f) {
			b.WriteByte(f[i])
			continue
		}
		i++
		switch f[i] {
		case 'Y':
			fmt.Fprintf(&b, "%04d", t.Year())
		case 'y':
			fmt.Fprintf(&b, "%02d", t.Year()%100)
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'e':
			fmt.Fprintf(&b, "%2d", t.Day())
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'I':
			fmt.Fprintf(&b, "%02d", (t.Hour()+11)%12+1)
		case 'M':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case 'S':
			fmt.Fprintf(&b, "%02d", t.Second())
		case 'p':
			b.WriteString(t.Format("PM"))
		case 'b':
			b.WriteString(t.Format("Jan"))
		case 'B':
			b.WriteString(t.Format("January"))
		case 'a':
			b.WriteString(t.Format("Mon"))
		case 'A':
			b.WriteString(t.Format("Monday"))
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(f[i])
		}
	}
	return b.String()
}

// jsonValue converts JSON to a template value, keeping object key order.
func jsonValue(data []byte) (jinja.Value, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return v, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return v, errors.New("trailing data after JSON value")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder) (jinja.Value, error) {
	tok, err := dec.Token()
	if err != nil {
		return jinja.Undefined(), err
	}
	switch x := tok.(type) {
	case json.Delim:
		switch x {
		case '[':
			var items []jinja.Value
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return v, err
				}
				items = append(items, v)
			}
			_, err := dec.Token()
			return jinja.NewList(items), err
		case '{':
			d := jinja.NewDict()
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return d, err
				}
				v, err := decodeValue(dec)
				if err != nil {
					return v, err
				}
				d.AsDict().Set(k.(string), v)
			}
			_, err := dec.Token()
			return d, err
		}
	case string:
		return jinja.NewString(x), nil
	case bool:
		return jinja.NewBool(x), nil
	case nil:
		return jinja.None(), nil
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return jinja.NewInt(i), nil
		}
		f, err := x.Float64()
		return jinja.NewFloat(f), err
	}
	return jinja.Undefined(), fmt.Errorf("unexpected JSON token %v", tok)
}
