package tokenizer

import (
	"strings"
	"testing"
	"time"
)

func TestPyJSON(t *testing.T) {
	tk := &Tokenizer{}
	got, err := tk.ApplyChatTemplateJSON([]byte(`[{"role": "user", "content": "x"}]`), ChatOptions{
		Template: `{{ tools | tojson(indent=2) }}`,
		Tools:    []byte(`[{"z": 1, "a": [1.5, 2.0, 1e20, 0.0001, 1234567.25, true, null, [], {}], "s": "<é>\n\u0001\"\\"}]`),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "[\n  {\n    \"z\": 1,\n    \"a\": [\n      1.5,\n      2.0,\n      1e+20,\n      0.0001,\n      1234567.25,\n      true,\n      null,\n      [],\n      {}\n    ],\n    \"s\": \"<é>\\n\\u0001\\\"\\\\\"\n  }\n]"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestStrftimeNow(t *testing.T) {
	tk := &Tokenizer{}
	day := time.Date(2025, 3, 7, 14, 5, 9, 0, time.UTC)
	got, err := tk.ApplyChatTemplate([]Message{{"user", "x"}}, ChatOptions{
		Template: `{{ strftime_now("%d %b %Y|%Y-%m-%d %H:%M:%S|%A %B %j %%") }}`,
		Now:      func() time.Time { return day },
	})
	if err != nil || got != "07 Mar 2025|2025-03-07 14:05:09|Friday March 066 %" {
		t.Errorf("got %q, %v", got, err)
	}
	// Llama 3.1+ templates take today's date when date_string is not given.
	got, err = tk.ApplyChatTemplate([]Message{{"user", "x"}}, ChatOptions{
		Template: `{%- if not date_string is defined %}{%- set date_string = strftime_now("%d %b %Y") %}{%- endif %}{{ date_string }}`,
		Now:      func() time.Time { return day },
	})
	if err != nil || !strings.HasPrefix(got, "07 Mar 2025") {
		t.Errorf("got %q, %v", got, err)
	}
}

// TestPyTemplate: the rewrite for Python's semantics touches only filters and output
// blocks, never text, comments, raw blocks or string literals, and keeps {{- -}} marks.
func TestPyTemplate(t *testing.T) {
	cases := map[string]string{
		`a {{- x | tojson -}} b`:                                      `a {{- aegis_str((aegis_tojson(x))) -}} b`,
		`{{ m.a[0]['b'].c(1) | tojson(indent=2) }}`:                   `{{ aegis_str((aegis_tojson(m.a[0]['b'].c(1), indent=2))) }}`,
		`{{ 'x' + y | trim + "| tojson" }}`:                           `{{ aegis_str(('x' + aegis_trim(y) + "| tojson")) }}`,
		`{{ a | selectattr('k') | list | tojson }}`:                   `{{ aegis_str((aegis_tojson(a | selectattr('k') | list))) }}`,
		`{% set s = {'a': 1} | tojson %}`:                             `{% set s = aegis_tojson({'a': 1}) %}`,
		`{% if not x | string %}`:                                     `{% if not aegis_string(x) %}`,
		`{{ (a | tojson) | length }}`:                                 `{{ aegis_str(((aegis_tojson(a)) | length)) }}`,
		`{{ -1.0 | tojson }}`:                                         `{{ aegis_str((aegis_tojson(-1.0))) }}`,
		`{# {{ x | tojson }} #}{% raw %}{{ x | tojson }}{% endraw %}`: `{# {{ x | tojson }} #}{% raw %}{{ x | tojson }}{% endraw %}`,
		`text | tojson {x} }}`:                                        `text | tojson {x} }}`,
		`{% for k in d | items %}{{ k }}{% endfor %}`:                 `{% for k in d | items %}{{ aegis_str((k)) }}{% endfor %}`,
	}
	for in, want := range cases {
		if got := pyTemplate(in); got != want {
			t.Errorf("%s\n got %s\nwant %s", in, got, want)
		}
	}
}
