package bench

import (
	"math/rand/v2"
	"time"

	"github.com/aegis-safety/aegis/native/model"
)

// DecodeResult is a decoding benchmark's timing.
type DecodeResult struct {
	Prefill, Decode time.Duration
}

// TimeDecode prefills batch prompts of promptLen random tokens into one KV cache, then
// decodes newTokens tokens greedily, one Step per token for every row, calling onToken
// after each. It times the Step path itself (not model.Decode's sampling and stop
// checks): the figure to hold against llama.cpp's tokens/s.
func TimeDecode(m *model.Model, batch, promptLen, newTokens int, onToken func()) (DecodeResult, error) {
	var res DecodeResult
	r := rand.New(rand.NewPCG(5, 6))
	c := m.NewCache(batch, promptLen+newTokens)
	t0 := time.Now()
	logits, err := m.Step(c, RandomIDs(r, batch*promptLen, m.Config.VocabSize), nil)
	if err != nil {
		return res, err
	}
	res.Prefill = time.Since(t0)
	V := m.Config.VocabSize
	next := make([]int32, batch)
	t0 = time.Now()
	for range newTokens {
		for b := range next {
			next[b] = model.Argmax(logits[b*V : (b+1)*V])
		}
		if logits, err = m.Step(c, next, nil); err != nil {
			return res, err
		}
		onToken()
	}
	res.Decode = time.Since(t0)
	return res, nil
}
