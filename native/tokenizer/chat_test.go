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
