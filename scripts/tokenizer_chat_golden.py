#!/usr/bin/env python3
"""Writes native/tokenizer/testdata/golden_chat_py.jsonl: chat templates rendered by
Python's Jinja2 exactly as transformers sets it up for apply_chat_template
(transformers.utils.chat_template_utils: ImmutableSandboxedEnvironment with trim_blocks and
lstrip_blocks, the loopcontrols extension, its tojson = json.dumps(x, ensure_ascii=False,
indent=None, separators=None, sort_keys=False), raise_exception and strftime_now; the
template gets messages, tools, documents, add_generation_prompt, the special tokens and
the extra template variables).

The conversations are random but fixed (seeded): system, user, assistant and tool turns,
tool calls with arguments as objects or JSON strings (ints, floats such as 2.0 and
1234567.5, nulls, nested lists and objects, non-ASCII keys), tool definitions, the
generation prompt on and off, enable_thinking and other template variables, and contents
with white space at the ends, quotes, braces, markup and special-token strings. The
templates are the Llama 3.2, Qwen2.5 and Qwen3 ones in testdata/chat, testdata/chat/
python.jinja (tojson with every option, str() of None, floats, lists and dicts, trim) and
aegis's built-in llama3, chatml and mistral templates (read from chat.go). Renderings that
the template refuses with raise_exception are recorded with the message; other Python
errors (e.g. str + None) are left out.

  python3 scripts/tokenizer_chat_golden.py        (needs only jinja2: python3-jinja2)
"""
import datetime
import json
import os
import random
import re

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
PKG = os.path.join(HERE, "..", "native", "tokenizer")
OUT = os.path.join(PKG, "testdata", "golden_chat_py.jsonl")


class TemplateRaised(Exception):
    pass


def raise_exception(message):
    raise TemplateRaised(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(fmt):
    return datetime.datetime.now().strftime(fmt)


env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
env.filters["tojson"] = tojson
env.globals["raise_exception"] = raise_exception
env.globals["strftime_now"] = strftime_now

# The special tokens each tokenizer's tokenizer_config.json sets (the Go test uses the same).
SPECIAL = {
    "llama3": {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
    "qwen3": {"eos_token": "<|im_end|>"},
    "llama2": {"bos_token": "<s>", "eos_token": "</s>"},
}


def builtin(name):
    src = open(os.path.join(PKG, "chat.go"), encoding="utf-8").read()
    return re.search(r'\n\t"%s": `(.*?)`,\n' % re.escape(name), src, re.S).group(1)


def chat_file(name):
    return open(os.path.join(PKG, "testdata", "chat", name + ".jinja"), encoding="utf-8").read()


TEMPLATES = [  # name in the golden, source, tokenizer, conversation style, count
    ("llama3.2", chat_file("llama3.2"), "llama3", "tools", 35),
    ("qwen2.5", chat_file("qwen2.5"), "qwen3", "tools", 35),
    ("qwen3", chat_file("qwen3"), "qwen3", "tools", 35),
    ("python", chat_file("python"), "llama3", "tools", 10),
    ("builtin:llama3", builtin("llama3"), "llama3", "plain", 15),
    ("builtin:chatml", builtin("chatml"), "qwen3", "plain", 15),
    ("builtin:mistral", builtin("mistral"), "llama2", "alternate", 15),
]

BITS = ["Hello", " world", "  ", "\n", "\n\n", "\t", "中文", "😀", "é", "{{ x }}", "{% raw %}", "<|eot_id|>", "<|im_end|>",
        "<tool_call>", "'quote'", '"dq"', "\\", "a & b < c > d", "  padded  ", "1.50", "null", "</think>",
        "<think>\nhm\n</think>\n\n", "ok.", "<s>[INST]", "\u00a0nbsp", "it's"]


def main():
    rnd = random.Random(20240726)

    def text():
        return "".join(rnd.choice(BITS) for _ in range(rnd.randint(0, 6)))

    def value(depth=0):
        r = rnd.random()
        if depth > 2 or r < 0.3:
            return rnd.choice([1, -7, 0, 2.5, 2.0, 0.1, 1e-05, 1e20, 1234567.5, 1000000.0, -0.0, True, False, None, "s", "中<&>", "", "it's \"q\""])
        if r < 0.55:
            return [value(depth + 1) for _ in range(rnd.randint(0, 3))]
        return {rnd.choice(["z", "a", "m", "key é", "b"]) + str(i): value(depth + 1) for i in range(rnd.randint(0, 3))}

    def tool():
        return {"type": "function", "function": {"name": rnd.choice(["get_weather", "search", "f"]), "description": text(),
                "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": text()},
                               "n": {"type": "integer", "default": rnd.choice([1, 2.0, None])}}, "required": ["city"]}}}

    def conversation(style):
        msgs = []
        if rnd.random() < 0.5:
            msgs.append({"role": "system", "content": text()})
        for _ in range(rnd.randint(1, 4)):
            msgs.append({"role": "user", "content": text()})
            if style == "alternate" and rnd.random() < 0.1:
                msgs.append({"role": "user", "content": text()})  # the template refuses this
            if rnd.random() < 0.8 or style == "alternate":
                m = {"role": "assistant", "content": text()}
                if style == "tools" and rnd.random() < 0.3:
                    m["tool_calls"] = [{"type": "function", "function": {"name": "get_weather",
                                        "arguments": rnd.choice([value(), value(), '{"city": "Paris"}'])}}
                                       for _ in range(rnd.randint(1, 2))]
                    if rnd.random() < 0.3:
                        m["content"] = rnd.choice(["", None])
                    msgs.append(m)
                    for _ in m["tool_calls"]:
                        msgs.append({"role": "tool", "content": text()})
                    continue
                if style == "tools" and rnd.random() < 0.2:
                    m["reasoning_content"] = text()
                msgs.append(m)
        if style == "alternate" and msgs[-1]["role"] == "assistant" and rnd.random() < 0.5:
            msgs.pop()
        row = {"messages": msgs, "add_generation_prompt": rnd.random() < 0.6, "tools": None, "vars": {"date_string": "26 Jul 2024"}}
        if style == "tools" and rnd.random() < 0.35:
            row["tools"] = [tool() for _ in range(rnd.randint(1, 2))]
        if rnd.random() < 0.3:
            row["vars"]["enable_thinking"] = rnd.random() < 0.5
        if rnd.random() < 0.2:
            row["vars"]["tools_in_user_message"] = rnd.random() < 0.5
        return row

    lines, counts = [], {}
    for name, src, tok, style, n in TEMPLATES:
        tmpl = env.from_string(src)
        done = 0
        while done < n:
            row = conversation(style)
            kwargs = {**SPECIAL[tok], **row["vars"]}
            out = {"template": name, "tokenizer": tok, **row}
            try:
                out["text"] = tmpl.render(messages=row["messages"], tools=row["tools"], documents=None,
                                          add_generation_prompt=row["add_generation_prompt"], **kwargs)
            except TemplateRaised as e:
                out["error"] = str(e)
            except Exception:
                continue  # Python rejects the input (e.g. str + None); the engine is laxer
            lines.append(json.dumps(out, ensure_ascii=False))
            done += 1
        counts[name] = done
    with open(OUT, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{os.path.relpath(OUT)}: {len(lines)} renderings by Python's Jinja2 {jinja2.__version__} "
          + ", ".join(f"{k} {v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
