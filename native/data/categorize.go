package data

import (
	"strings"
	"unicode"
)

// keywords maps word stems to harm codes for Categorize, most specific first.
var keywords = []struct {
	code  string
	stems []string
}{
	{"S4", []string{"child porn", "minor", "underage", "csam", "pedophil", "groom a child", "groom children"}},
	{"S9", []string{"bomb", "explosive", "nerve agent", "sarin", "anthrax", "pathogen", "bioweapon", "chemical weapon", "nuclear", "radiolog", "uranium", "ricin", "toxin"}},
	{"S11", []string{"suicide", "kill myself", "self-harm", "self harm", "cut myself", "starve myself", "anorexi", "end my life"}},
	{"S3", []string{"rape", "sexual assault", "sex traffick", "prostitut", "revenge porn", "upskirt", "non-consensual"}},
	{"S12", []string{"explicit sex", "porn", "erotic", "nude", "sexual content", "sex scene"}},
	{"S13", []string{"election", "ballot", "voter", "voting", "polling"}},
	{"S14", []string{"sandbox", "code interpreter", "fork bomb", "fork-bomb", "rm -rf", "container escape"}},
	{"S10", []string{"racist", "slur", "inferior race", "hate speech", "ethnic", "antisemit", "homophob", "nazi", "supremac", "sexist"}},
	{"S7", []string{"home address", "social security number", "doxx", "dox ", "track someone", "stalk", "spy on", "private messages", "personal information", "phone number"}},
	{"S8", []string{"copyright", "pirat", "torrent", "drm", "lyrics of", "full text of", "keygen", "crack software"}},
	{"S5", []string{"defam", "fake news", "false rumor", "libel", "slander", "smear"}},
	{"S6", []string{"dosage", "diagnos", "prescription", "legal advice", "medical advice", "financial advice", "invest"}},
	{"S1", []string{"kill", "murder", "assault", "attack", "hurt", "shoot", "stab", "kidnap", "torture", "poison", "strangle", "violen", "weapon", "gun", "terror"}},
	{"S2", []string{"steal", "theft", "fraud", "launder", "scam", "phishing", "hack", "malware", "ransomware", "counterfeit", "drug", "smuggl", "shoplift", "bribe", "evade tax", "tax evasion", "illegal", "crime", "forge"}},
}

// specificity ranks a harm code by the order of keywords (0 most specific); codes not in
// it rank last.
func specificity(code string) int {
	for i, k := range keywords {
		if k.code == code {
			return i
		}
	}
	return len(keywords)
}

// Categorize guesses a harm code for a text that its source did not categorise, by
// keyword stems (first matching group wins, most specific first). It is a heuristic for
// importing uncategorised benchmarks, not a judge: ok is false when nothing matched.
func Categorize(text string) (code string, ok bool) {
	t := " " + strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' {
			return unicode.ToLower(r)
		}
		return ' '
	}, text) + " "
	for _, k := range keywords {
		for _, s := range k.stems {
			if strings.Contains(t, " "+s) {
				return k.code, true
			}
		}
	}
	return "", false
}
