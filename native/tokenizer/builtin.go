package tokenizer

// BuiltinTemplate returns the text of a built-in chat template (see BuiltinTemplates), for
// writing into a tokenizer_config.json.
func BuiltinTemplate(name string) (string, bool) {
	t, ok := builtinTemplates[name]
	return t, ok
}
