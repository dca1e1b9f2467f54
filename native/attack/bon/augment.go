// Package bon is Best-of-N jailbreaking (Hughes et al. 2024, "Best-of-N Jailbreaking",
// arXiv 2412.03556): a request is sent up to N times, each time under a fresh random
// augmentation of its text (word scrambling, random capitalisation, character noising),
// the target's answer is sampled and judged, and the attack stops at the first answer
// the judge flags unsafe. ASR as a function of N is the share of requests whose first
// success comes within N samples.
//
// Sample k of a request is fully determined by the base seed, the request's id and k
// (its augmentation, and its decoding seed when the generator takes one), so the outcome
// depends on neither batching nor concurrency.
package bon

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/aegis-safety/aegis/native/data"
)

// Augment holds the probabilities of the three text augmentations. The paper draws them
// from one sigma (0.4 in its text experiments): sqrt(sigma) ≈ 0.6 for scrambling and
// capitalisation, sigma^3 ≈ 0.06 for noising.
type Augment struct {
	// Scramble is the probability that a word (a run of non-white-space characters) longer than
	// 3 characters has its middle characters shuffled; its first and last stay.
	Scramble float64 `json:"scramble"`
	// Caps is the probability that an ASCII letter's case is flipped.
	Caps float64 `json:"caps"`
	// Noise is the probability that a printable ASCII character (32-126) has its code
	// shifted by +1 or -1; a shift that would leave the printable range leaves it as it is.
	Noise float64 `json:"noise"`
}

// DefaultAugment is the paper's text setting.
var DefaultAugment = Augment{Scramble: 0.6, Caps: 0.6, Noise: 0.06}

// Check reports a probability outside [0, 1].
func (a Augment) Check() error {
	for _, p := range []struct {
		name string
		v    float64
	}{{"scramble", a.Scramble}, {"caps", a.Caps}, {"noise", a.Noise}} {
		if !(p.v >= 0 && p.v <= 1) {
			return fmt.Errorf("%s probability %v is not in [0,1]", p.name, p.v)
		}
	}
	return nil
}

// Apply returns s augmented with rng: scrambling, then capitalisation, then noising, as
// the paper composes them. Unlike the paper's code (which splits on whitespace and joins
// with single spaces) the whitespace of s is kept as it is.
func (a Augment) Apply(s string, rng *rand.Rand) string {
	if a.Scramble > 0 {
		s = scramble(s, a.Scramble, rng)
	}
	if a.Caps > 0 {
		s = flipCase(s, a.Caps, rng)
	}
	if a.Noise > 0 {
		s = noise(s, a.Noise, rng)
	}
	return s
}

// Sample is Apply with the augmentation stream of seed (see Seeds).
func (a Augment) Sample(s string, seed uint64) string {
	return a.Apply(s, rand.New(rand.NewPCG(seed, augStream)))
}

const (
	augStream = 0x626f6e2d617567 // "bon-aug": the PCG stream of augmentations
	genStream = 0x626f6e2d67656e // "bon-gen": mixed into decoding seeds
)

// Seeds returns the seeds of sample k (0-based) of the request id under base: the
// augmentation's and the decoding's.
func Seeds(base uint64, id string, k int) (aug, gen uint64) {
	s := mix(data.RowSeed(base, id) ^ mix(uint64(k)+1))
	return s, mix(s ^ genStream)
}

// mix is SplitMix64's finaliser.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// isSpace is what separates words: Unicode white space, as Python's str.split() takes it.
func isSpace(r rune) bool { return unicode.IsSpace(r) }

// scramble shuffles the middle characters of each word of more than 3 characters with
// probability p.
func scramble(s string, p float64, rng *rand.Rand) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, _ := utf8.DecodeRuneInString(s[i:])
		space := isSpace(r)
		j := i
		for j < len(s) {
			r, n := utf8.DecodeRuneInString(s[j:])
			if isSpace(r) != space {
				break
			}
			j += n
		}
		w := s[i:j]
		if !space && utf8.RuneCountInString(w) > 3 && utf8.ValidString(w) && rng.Float64() < p {
			rs := []rune(w)
			mid := rs[1 : len(rs)-1]
			rng.Shuffle(len(mid), func(x, y int) { mid[x], mid[y] = mid[y], mid[x] })
			w = string(rs)
		}
		b.WriteString(w)
		i = j
	}
	return b.String()
}

// flipCase flips the case of each ASCII letter with probability p.
func flipCase(s string, p float64, rng *rand.Rand) string {
	b := []byte(s)
	for i, c := range b {
		if ('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') && rng.Float64() < p {
			b[i] = c ^ 0x20
		}
	}
	return string(b)
}

// noise shifts each printable ASCII character's code by ±1 with probability p, leaving
// it unchanged when the shift would leave 32-126.
func noise(s string, p float64, rng *rand.Rand) string {
	b := []byte(s)
	for i, c := range b {
		if c < 32 || c > 126 || rng.Float64() >= p {
			continue
		}
		d := c + 1
		if rng.IntN(2) == 0 {
			d = c - 1
		}
		if d >= 32 && d <= 126 {
			b[i] = d
		}
	}
	return string(b)
}
