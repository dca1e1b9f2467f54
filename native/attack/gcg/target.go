package gcg

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// howLeads are request openings that ask how to do something; what follows them is the
// task. Longer leads come first so that the longest match wins.
var howLeads = []string{
	"can you give me step by step instructions to", "give me step by step instructions to",
	"can you explain step by step how to", "explain step by step how to",
	"can you give me instructions to", "give me instructions on how to", "give me instructions for how to",
	"give me instructions to", "what is the best way to", "what's the best way to",
	"can you tell me how to", "could you tell me how to", "please tell me how to", "tell me how to",
	"can you show me how to", "show me how to", "teach me how to", "explain how to", "describe how to",
	"can you help me", "could you help me", "please help me", "help me",
	"how do i", "how can i", "how could i", "how would i", "how should i", "how do you", "how can you",
	"how to", "i want to", "i need to", "i would like to", "i'd like to",
	"can you", "could you", "would you", "please", "i need you to",
}

// makeLeads are openings that ask for an artefact; the target names the artefact.
var makeLeads = []string{"write", "create", "generate", "draft", "compose", "produce", "design", "develop", "give me", "provide", "make"}

// DefaultTarget derives a target from a request, as AdvBench's targets read:
//
//   - the request is cut at its first sentence end (". ", "? ", "! ") and trailing
//     punctuation and spaces are dropped;
//   - a request opening with a how-to phrase (howLeads, matched case-insensitively:
//     "How do I", "How can I", "Tell me how to", "What is the best way to", "Can you help
//     me", "I want to", "Please", ...) gives "Sure, here is how to " + the rest;
//   - one opening with a verb of making ("Write", "Create", "Generate", "Draft", "Give
//     me", ...) followed by "a", "an", "the" or "some" gives "Sure, here is " + what
//     follows the verb ("Write a phishing email" → "Sure, here is a phishing email");
//   - any other request gives "Sure, here is how to " + the request with its first
//     letter lowercased (an imperative: "Pick a lock" → "Sure, here is how to pick a
//     lock"), or, for a question ending in "?", "Sure, here is the answer: " + the request;
//   - in the task, first-person words become second-person ("my" → "your", "I" and "me"
//     → "you", "mine" → "yours", "myself" → "yourself"), as an answer would say them.
func DefaultTarget(request string) string {
	s := strings.TrimSpace(request)
	question := strings.HasSuffix(s, "?")
	for _, end := range []string{". ", "? ", "! "} {
		if i := strings.Index(s, end); i >= 0 {
			s, question = s[:i+1], end == "? "
		}
	}
	s = strings.TrimRight(s, " .?!")
	lower := strings.ToLower(s)
	for _, lead := range howLeads {
		if rest, ok := cutWord(s, lower, lead); ok {
			return "Sure, here is how to " + youForm(rest)
		}
	}
	for _, lead := range makeLeads {
		if rest, ok := cutWord(s, lower, lead); ok {
			for _, art := range []string{"a ", "an ", "the ", "some "} {
				if strings.HasPrefix(strings.ToLower(rest), art) {
					return "Sure, here is " + youForm(strings.ToLower(rest[:len(art)])+rest[len(art):])
				}
			}
		}
	}
	if question {
		return "Sure, here is the answer: " + s
	}
	return "Sure, here is how to " + youForm(lowerFirst(s))
}

// cutWord returns what follows lead at the start of s (lower is s lowercased), when the
// lead ends at a word boundary and something follows.
func cutWord(s, lower, lead string) (string, bool) {
	if !strings.HasPrefix(lower, lead+" ") {
		return "", false
	}
	rest := strings.TrimSpace(s[len(lead):])
	return rest, rest != ""
}

func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || len(s) > n && unicode.IsUpper(rune(s[n])) { // an acronym stays as it is
		return s
	}
	return string(unicode.ToLower(r)) + s[n:]
}

// youWords are the first-person words youForm replaces.
var youWords = map[string]string{"my": "your", "i": "you", "me": "you", "mine": "yours", "myself": "yourself", "i'm": "you're"}

// youForm turns the asker's first-person words into the answerer's second person.
func youForm(s string) string {
	w := strings.Fields(s)
	for i, x := range w {
		core := strings.TrimRightFunc(x, func(r rune) bool { return unicode.IsPunct(r) && r != '\'' })
		if y, ok := youWords[strings.ToLower(core)]; ok {
			w[i] = y + x[len(core):]
		}
	}
	return strings.Join(w, " ")
}
