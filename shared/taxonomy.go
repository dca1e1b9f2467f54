package shared

// Category is one class of the harm taxonomy: the 14 hazard categories of Llama Guard 3
// (MLCommons AI Safety taxonomy), plus "benign" for prompts that ask for nothing harmful.
type Category struct {
	Code string // "S1" ... "S14", or "benign"
	Name string
}

// Benign is the category of harmless prompts.
const Benign = "benign"

// Categories lists the taxonomy in code order, benign last.
var Categories = []Category{
	{"S1", "Violent Crimes"},
	{"S2", "Non-Violent Crimes"},
	{"S3", "Sex-Related Crimes"},
	{"S4", "Child Sexual Exploitation"},
	{"S5", "Defamation"},
	{"S6", "Specialized Advice"},
	{"S7", "Privacy"},
	{"S8", "Intellectual Property"},
	{"S9", "Indiscriminate Weapons"},
	{"S10", "Hate"},
	{"S11", "Suicide & Self-Harm"},
	{"S12", "Sexual Content"},
	{"S13", "Elections"},
	{"S14", "Code Interpreter Abuse"},
	{Benign, "Benign"},
}

// HarmCodes are the 14 harm codes, in order, without benign.
func HarmCodes() []string {
	out := make([]string, 0, 14)
	for _, c := range Categories {
		if c.Code != Benign {
			out = append(out, c.Code)
		}
	}
	return out
}

// CategoryName returns the name of a code and whether the code is in the taxonomy.
func CategoryName(code string) (string, bool) {
	for _, c := range Categories {
		if c.Code == code {
			return c.Name, true
		}
	}
	return "", false
}

// ValidCategory reports whether code is a taxonomy code (S1-S14 or benign).
func ValidCategory(code string) bool { _, ok := CategoryName(code); return ok }
