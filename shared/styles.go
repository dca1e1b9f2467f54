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
	// Added in attack module 1.1.0. New styles go at the end: the order above is the
	// order of every "all styles" expansion, which datasets and the demo depend on.
	{"homoglyph", "Unicode homoglyphs (Cyrillic/Greek look-alike letters)", "unicode", "Boucher et al. 2022, Bad Characters; PyRIT UnicodeConfusableConverter"},
	{"zero_width", "Zero-width characters inside words", "unicode", "Boucher et al. 2022, Bad Characters; PyRIT ZeroWidthConverter"},
	{"tag_characters", "Unicode tag characters (invisible \"ASCII smuggling\")", "unicode", "Goodside 2024; Rehberger 2024, ASCII smuggling; PyRIT AsciiSmugglerConverter"},
	{"diacritics", "Diacritics (combining accents on letters)", "unicode", "Boucher et al. 2022, Bad Characters; PyRIT DiacriticConverter"},
	{"hex", "Hex encoding", "encoding", "garak encoding probes (InjectHex)"},
	{"atbash", "Atbash cipher", "encoding", "Yuan et al. 2023, CipherChat; PyRIT AtbashConverter"},
	{"morse", "Morse code", "encoding", "Yuan et al. 2023, CipherChat; PyRIT MorseConverter"},
	{"flip_attack", "FlipAttack (flipped characters or words, told to flip back)", "obfuscation", "Liu et al. 2024, FlipAttack"},
	{"art_prompt", "ASCII-art masking of the trigger word (ArtPrompt)", "obfuscation", "Jiang et al. 2024, ArtPrompt"},
	{"grandma", "Emotional appeal (\"grandma\" role-play)", "persona", "grandma exploit (2023); garak grandma probes"},
	{"future_tense", "Future-tense rephrasing", "framing", "Andriushchenko & Flammarion 2024"},
	{"pap_evidence_based", "Persuasion: evidence-based", "persuasion", "Zeng et al. 2024, PAP taxonomy"},
	{"pap_expert_endorsement", "Persuasion: expert endorsement", "persuasion", "Zeng et al. 2024, PAP taxonomy"},
	{"pap_logical_appeal", "Persuasion: logical appeal", "persuasion", "Zeng et al. 2024, PAP taxonomy"},
	{"pap_authority_endorsement", "Persuasion: authority endorsement", "persuasion", "Zeng et al. 2024, PAP taxonomy"},
	{"pap_misrepresentation", "Persuasion: misrepresentation", "persuasion", "Zeng et al. 2024, PAP taxonomy"},
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
