// Command gendata writes the built-in judge's labelled corpus, wasm/judge/data/judge.jsonl
// (schema, label rules and split rule: wasm/judge/data/README.md). Run from the module root:
//
//	go run ./wasm/judge/cmd/gendata [-written wasm/judge/data/written] [-out wasm/judge/data/judge.jsonl]
//
// The corpus is
//
//   - the hand-written rows of every written/*.jsonl, in file-name order: each row is
//     validated (all eight keys, right types, a taxonomy category, never refusal and unsafe
//     together, benign never unsafe, non-empty prompt, response and topic; an invalid row
//     stops the run with FILE:LINE), exact duplicate (prompt, response) pairs are dropped,
//     and source is "written/FILE";
//   - then the templated rows, family by family: harmful topics for each of S1..S14 and
//     benign topics (everyday tasks, code, look-alikes with scary words, safety questions)
//     crossed with template families (compliance in many shapes, refusals in many shapes
//     and languages, over-refusals, helpful answers). Labels follow the family: a
//     compliance family is unsafe, a refusal family or over_refusal is refusal, a helpful
//     family is neither. Source is "template/FAMILY". Harmful answers stay generic and
//     non-actionable: vague steps, placeholder code, placeholder names.
//
// A row is in the test split when its topic is held out (FNV-1a 32 of the slug, % 5 == 0)
// or its template family is held out (heldFamilies); written rows split by topic only. The
// generator never gives a prompt to both splits; a train row whose prompt a test row also
// has (only possible between written rows) is moved to test. No template family may hold
// more than 5% of the whole corpus; the run fails if one does. A seeded splitmix64 makes
// the output byte-identical on every run. A summary goes to stderr.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/aegis-safety/aegis/shared"
)

func main() {
	written := flag.String("written", "wasm/judge/data/written", "folder of hand-written *.jsonl rows")
	outPath := flag.String("out", "wasm/judge/data/judge.jsonl", "corpus to write")
	flag.Parse()
	if err := run(*written, *outPath, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gendata:", err)
		os.Exit(1)
	}
}

func run(written, outPath string, log io.Writer) error {
	c, err := build(written)
	if err != nil {
		return err
	}
	b, err := encode(c.rows)
	if err != nil {
		return err
	}
	if err := os.WriteFile(outPath, b, 0o644); err != nil {
		return err
	}
	summary(log, c)
	fmt.Fprintf(log, "wrote %s (%d rows)\n", outPath, len(c.rows))
	return nil
}

// summary prints rows by source kind, split, label and category, and the family shares.
func summary(w io.Writer, c *corpus) {
	n := len(c.rows)
	count := map[string]int{}
	for _, r := range c.rows {
		kind, _, _ := strings.Cut(r.Source, "/")
		count["source "+kind]++
		count["split "+r.Split]++
		count["label "+labelName(r)]++
		count["cat "+r.Category+" "+r.Split]++
	}
	pct := func(k int) string { return fmt.Sprintf("%d (%.1f%%)", k, 100*float64(k)/float64(max(n, 1))) }
	fmt.Fprintf(w, "rows: %d\n", n)
	fmt.Fprintf(w, "source: written %s, template %s (written duplicates dropped %d, templated rows skipped %d)\n",
		pct(count["source written"]), pct(count["source template"]), c.writtenDup, c.skipped)
	fmt.Fprintf(w, "split: train %s, test %s (train rows moved to test for a shared prompt: %d)\n",
		pct(count["split train"]), pct(count["split test"]), c.moved)
	fmt.Fprintf(w, "label: unsafe %s, refusal %s, neither %s\n",
		pct(count["label unsafe"]), pct(count["label refusal"]), pct(count["label neither"]))
	fmt.Fprintf(w, "category (train/test):")
	for _, cat := range shared.Categories {
		fmt.Fprintf(w, " %s %d/%d", cat.Code, count["cat "+cat.Code+" train"], count["cat "+cat.Code+" test"])
	}
	fmt.Fprintln(w)
	fams := familyCounts(c.rows)
	names := make([]string, 0, len(fams))
	for f := range fams {
		names = append(names, f)
	}
	sort.Slice(names, func(i, j int) bool {
		return fams[names[i]] > fams[names[j]] || fams[names[i]] == fams[names[j]] && names[i] < names[j]
	})
	if len(names) > 0 {
		fmt.Fprintf(w, "families: %d; largest %s %s (cap %.0f%% = %d rows)\n", len(names), names[0], pct(fams[names[0]]), capShare*100, int(capShare*float64(n)))
	}
	for _, f := range names {
		held := ""
		if heldFamilies[f] {
			held = " (held out)"
		}
		fmt.Fprintf(w, "  %-28s %4d%s\n", f, fams[f], held)
	}
}

func labelName(r Row) string {
	switch {
	case r.Unsafe:
		return "unsafe"
	case r.Refusal:
		return "refusal"
	}
	return "neither"
}
