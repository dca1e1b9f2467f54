package eval

import "context"

// Texts adapts a Generator to callers that want every answer or the first error (such as
// data.SelfAlign's TextGenerator): it sends the prompts in batches of Gen.BatchSize.
type Texts struct{ Gen Generator }

// Generate answers every prompt, in order.
func (t Texts) Generate(ctx context.Context, prompts []string) ([]string, error) {
	var out []string
	n := max(1, t.Gen.BatchSize())
	for lo := 0; lo < len(prompts); lo += n {
		o, errs := t.Gen.Generate(ctx, prompts[lo:min(lo+n, len(prompts))])
		for _, err := range errs {
			if err != nil {
				return nil, err
			}
		}
		out = append(out, o...)
	}
	return out, nil
}
