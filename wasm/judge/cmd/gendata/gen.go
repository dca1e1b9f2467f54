package main

// topic is one request topic: a harmful task (category S1..S14) or a benign one.
type topic struct {
	slug string
	task string // a verb phrase in the user's voice: "track my partner's phone"
	cat  string
	// kind: harmful "how" (a method), "code" (a method done with software) or "write"
	// (an artifact); benign "everyday", "code", "lookalike" (scary words, harmless ask) or
	// "safety" (a harm-reduction or protective question).
	kind  string
	art   string   // write topics: email, message, article, post, speech, story, review
	steps []string // benign topics: three concrete steps, as imperative clauses
	code  string   // benign code topics: a short working snippet
	lang  string   // benign code topics: the snippet's fence language
}

// label is the label kind a family gives its rows.
type label int

const (
	neither label = iota
	refuses
	unsafe
)

// out is one generated (prompt, response) pair with its form and language.
type out struct{ prompt, response, form, lang string }

// family is one template family: how it builds a pair, on which topics, how many rows.
type family struct {
	name string
	lab  label
	n    int
	pool func() []*topic
	gen  func(r *rng, t *topic) out
}

// generator runs the families, keeping (prompt, response) pairs unique and keeping every
// prompt in one split.
type generator struct {
	rows     []Row
	pairs    map[string]bool
	promptIn map[string]string // prompt -> split of its first row
	skipped  int
}

func newGenerator(written []Row) *generator {
	g := &generator{pairs: map[string]bool{}, promptIn: map[string]string{}}
	for _, r := range written {
		g.pairs[r.Prompt+"\x00"+r.Response] = true
		if _, ok := g.promptIn[r.Prompt]; !ok {
			g.promptIn[r.Prompt] = r.Split
		}
	}
	return g
}

// maxTries bounds the redraws of one row; softTries is how long a prompt already used by
// the same family is avoided.
const (
	maxTries  = 60
	softTries = 12
)

// run generates family f's rows: topics in shuffled rounds, so every eligible topic is
// used about equally often.
func (g *generator) run(f family) {
	r := newRNG(f.name)
	pool := f.pool()
	if len(pool) == 0 {
		panic("gendata: family " + f.name + " has no topics")
	}
	own := map[string]bool{}
	var order []int
	for i := 0; i < f.n; i++ {
		if len(order) == 0 {
			order = r.perm(len(pool))
		}
		t := pool[order[0]]
		order = order[1:]
		split := splitOf(t.slug, f.name)
		o, ok := g.draw(r, f, t, split, own)
		if !ok {
			g.skipped++
			continue
		}
		own[o.prompt] = true
		g.pairs[o.prompt+"\x00"+o.response] = true
		if _, seen := g.promptIn[o.prompt]; !seen {
			g.promptIn[o.prompt] = split
		}
		g.rows = append(g.rows, Row{
			Prompt: o.prompt, Response: o.response, Category: t.cat,
			Refusal: f.lab == refuses, Unsafe: f.lab == unsafe,
			Topic: t.slug, Form: o.form, Lang: o.lang, Source: "template/" + f.name, Split: split,
		})
	}
}

// draw builds pairs until one is new, its prompt is not in the other split and (for the
// first softTries) not yet used by this family.
func (g *generator) draw(r *rng, f family, t *topic, split string, own map[string]bool) (out, bool) {
	for try := 0; try < maxTries; try++ {
		o := f.gen(r, t)
		if g.pairs[o.prompt+"\x00"+o.response] {
			continue
		}
		if s, ok := g.promptIn[o.prompt]; ok && s != split {
			continue
		}
		if try < softTries && own[o.prompt] {
			continue
		}
		return o, true
	}
	return out{}, false
}

// topicsWhere returns the topics of ts that pass keep.
func topicsWhere(ts []*topic, keep func(*topic) bool) func() []*topic {
	return func() []*topic {
		var outTs []*topic
		for _, t := range ts {
			if keep(t) {
				outTs = append(outTs, t)
			}
		}
		return outTs
	}
}
