// Command train fits the built-in judge's network (package classify) on the labelled
// corpus and writes the weights that the judge module embeds:
//
//	go run ./wasm/judge/cmd/train [-data wasm/judge/data/judge.jsonl] [-out wasm/judge/classify/weights.bin]
//
// It trains on the "train" split only and prints precision, recall and F1 on the
// held-out "test" split (topics and template families it never saw), per category and
// per response form, next to a keyword judge for comparison; README.md quotes that report
// (TestReportDocumented keeps the two in step). -eval FILE also reports on another
// labelled file (e.g. wasm/judge/testdata/realistic.jsonl). Training is deterministic: the
// same data gives byte-identical weights.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/aegis-safety/aegis/wasm/judge/classify"
)

// row is a line of the corpus (wasm/judge/data/README.md).
type row struct {
	Prompt, Response, Category string
	Refusal, Unsafe            bool
	Topic, Form, Lang, Source  string
	Split                      string
	f                          []classify.Feature
}

func main() {
	data := flag.String("data", "wasm/judge/data/judge.jsonl", "labelled corpus (JSONL)")
	out := flag.String("out", "wasm/judge/classify/weights.bin", "weights file to write")
	evalPath := flag.String("eval", "", "another labelled JSONL to report on (never trained on)")
	valid := flag.Bool("valid", false, "hold 1 in 8 training topics and three training template families out as a validation split, report on it and write nothing (for choosing hyperparameters without touching the test split)")
	cfg := defaultConfig()
	flag.IntVar(&cfg.epochs, "epochs", cfg.epochs, "passes over the training split")
	flag.Float64Var(&cfg.lr, "lr", cfg.lr, "Adam step size at the start (decays linearly to 0)")
	flag.Float64Var(&cfg.dropout, "dropout", cfg.dropout, "share of each sample's features dropped in training")
	flag.Float64Var(&cfg.catDrop, "cat-drop", cfg.catDrop, "share of samples trained without the caller's category hint")
	flag.Uint64Var(&cfg.seed, "seed", cfg.seed, "seed of the initialisation, the order and the dropout")
	flag.Float64Var(&cfg.promptDrop, "prompt-drop", cfg.promptDrop, "share of samples trained without the request's features")
	flag.Parse()
	if err := run(*data, *out, *evalPath, *valid, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(1)
	}
}

func run(data, out, evalPath string, valid bool, cfg config) error {
	rows, err := read(data)
	if err != nil {
		return err
	}
	train, test := splitRows(rows)
	if valid {
		train, test = validationSplit(train)
	}
	m := fit(train, cfg)
	if !valid {
		if err := os.WriteFile(out, m.Marshal(), 0o644); err != nil {
			return err
		}
	}
	name := "held-out test split"
	if valid {
		name = "validation split (training topics held out)"
	}
	fmt.Printf("trained on %d rows for %d epochs; %s: %d rows\n\n", len(train), cfg.epochs, name, len(test))
	report(os.Stdout, m, test)
	if evalPath != "" {
		ev, err := read(evalPath)
		if err != nil {
			return err
		}
		fmt.Printf("\n%s (%d rows)\n\n", evalPath, len(ev))
		report(os.Stdout, m, ev)
	}
	return nil
}

func splitRows(rows []*row) (train, test []*row) {
	for _, r := range rows {
		if r.Split == "test" {
			test = append(test, r)
		} else {
			train = append(train, r)
		}
	}
	return train, test
}

// validFamilies are training template families held out by -valid, one per label kind,
// so that validation, like the test split, sees phrasings it never trained on.
var validFamilies = map[string]bool{"template/safe_redirect": true, "template/casual_compliance": true, "template/helpful_benign_markdown": true}

// validationSplit holds out the training rows of 1 in 8 topics (by a hash other than
// the test split's) and of validFamilies.
func validationSplit(train []*row) (rest, valid []*row) {
	for _, r := range train {
		if validFamilies[r.Source] {
			valid = append(valid, r)
			continue
		}
		h := uint32(0x811c9dc5)
		for i := 0; i < len(r.Topic); i++ {
			h = (h ^ uint32(r.Topic[i])) * 0x01000193
		}
		if (h>>7)%8 == 3 {
			valid = append(valid, r)
		} else {
			rest = append(rest, r)
		}
	}
	return rest, valid
}

func read(path string) ([]*row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows []*row
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<22)
	for n := 1; sc.Scan(); n++ {
		var r row
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, n, err)
		}
		rows = append(rows, &r)
	}
	return rows, sc.Err()
}
