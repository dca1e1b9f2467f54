package shared

// Style is one jailbreak technique of the attack catalogue. The ids are stable: datasets,
// reports and attack params name styles by id.
type Style struct {
	ID, Name, Family string
	// Source names a published suite or paper where the technique appears.
	Source string
}

// Styles is the attack-style catalogue, grouped by family. The built-in attack module
// implements every one of them.
var Styles = []Style{
	{"refusal_suppression", "Refusal suppression", "instruction", "Wei et al. 2023, Jailbroken"},
	{"prefix_injection", "Prefix injection (\"Sure, here is\")", "instruction", "Wei et al. 2023, Jailbroken"},
	{"dan", "Role-play persona (DAN-style)", "persona", "Shen et al. 2023, Do Anything Now"},
	{"developer_mode", "Developer mode", "persona", "jailbreakchat.com via garak dan probes"},
	{"evil_confidant", "Evil confidant persona", "persona", "jailbreakchat.com via garak dan probes"},
	{"hypothetical", "Hypothetical / fiction framing", "framing", "Egida; Liu et al. 2023"},
	{"story_continuation", "Story continuation", "framing", "Egida; Wei et al. 2023"},
	{"past_tense", "Past-tense rephrasing", "framing", "Andriushchenko & Flammarion 2024"},
	{"technical_report", "Technical-report framing", "framing", "Egida"},
	{"academic_authority", "Academic / authority framing", "framing", "Zeng et al. 2024, persuasive adversarial prompts"},
	{"distractor_sandwich", "Distractor / instruction sandwich", "obfuscation", "Wei et al. 2023, Jailbroken"},
	{"payload_splitting", "Payload splitting", "obfuscation", "Kang et al. 2023"},
	{"few_shot", "Few-shot with fake compliant examples", "context", "Wei et al. 2023, in-context attack"},
	{"many_shot", "Many-shot jailbreaking", "context", "Anil et al. 2024, Many-shot jailbreaking"},
	{"base64", "Base64 encoding", "encoding", "Wei et al. 2023, Jailbroken; garak encoding probes"},
	{"leetspeak", "Leetspeak", "encoding", "garak; PyRIT converters"},
	{"rot13", "ROT13 cipher", "encoding", "garak encoding probes; Yuan et al. 2023, CipherChat"},
	{"caesar", "Caesar cipher (shift 3)", "encoding", "Yuan et al. 2023, CipherChat"},
	{"translation", "Translation framing", "language", "Deng et al. 2023, multilingual jailbreaks"},
	{"json_wrapping", "JSON wrapping", "format", "promptfoo strategies"},
	{"code_wrapping", "Code wrapping", "format", "Kang et al. 2023, programmatic behavior"},
}

// StyleIDs returns the ids of the catalogue, in order.
func StyleIDs() []string {
	out := make([]string, len(Styles))
	for i, s := range Styles {
		out[i] = s.ID
	}
	return out
}

// LookupStyle returns the catalogue entry for id.
func LookupStyle(id string) (Style, bool) {
	for _, s := range Styles {
		if s.ID == id {
			return s, true
		}
	}
	return Style{}, false
}
