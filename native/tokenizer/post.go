package tokenizer

// postProcessor adds special tokens around an encoded sequence.
type postProcessor interface{ single(ids []int32) []int32 }

// templatePost is TemplateProcessing's "single" template: a list of special tokens (each
// expanding to one or more ids) and the sequence placeholder.
type templatePost struct {
	items [][]int32 // nil marks the sequence
}

func (p templatePost) single(ids []int32) []int32 {
	out := make([]int32, 0, len(ids)+4)
	for _, it := range p.items {
		if it == nil {
			out = append(out, ids...)
		} else {
			out = append(out, it...)
		}
	}
	return out
}

// wrapPost is RobertaProcessing / BertProcessing for one sequence: cls ids sep.
type wrapPost struct{ cls, sep int32 }

func (p wrapPost) single(ids []int32) []int32 {
	out := make([]int32, 0, len(ids)+2)
	out = append(out, p.cls)
	out = append(out, ids...)
	return append(out, p.sep)
}

type sequencePost []postProcessor

func (q sequencePost) single(ids []int32) []int32 {
	for _, p := range q {
		ids = p.single(ids)
	}
	return ids
}
