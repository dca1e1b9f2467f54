package tokenizer

import "strings"

// Stream turns a growing token sequence into text deltas, for printing or sending text
// while a model is still generating it. A token that ends in the middle of a UTF-8
// character decodes to a trailing U+FFFD; Stream holds such an ending back until a later
// token completes the character (or Flush ends the sequence), so no delta carries a
// replacement character that the full text does not have.
//
// Each Add decodes the whole sequence, as Decode would, so the deltas concatenate to
// Decode of all the tokens. Limits: a stream of n tokens costs O(n²) decoding, which is
// negligible for answers of a few thousand tokens; a decoder that rewrites earlier text
// when a token follows (clean_up_tokenization_spaces, for one) makes Add return nothing
// until the text again extends what was returned, and Flush returns the rest only if it
// does. A Stream is not safe for concurrent use.
type Stream struct {
	tok         *Tokenizer
	skipSpecial bool
	ids         []int32
	text        string // Decode(ids, skipSpecial)
	sent        string // the prefix of text returned so far
}

// NewStream returns an empty stream decoding with t; skipSpecial drops special added
// tokens, as in Decode.
func (t *Tokenizer) NewStream(skipSpecial bool) *Stream {
	return &Stream{tok: t, skipSpecial: skipSpecial}
}

// Add appends id and returns the text that became final with it: the decoding so far,
// without a trailing run of U+FFFD, minus what earlier calls returned. It is "" while the
// token only starts a character.
func (s *Stream) Add(id int32) string {
	s.ids = append(s.ids, id)
	s.text = s.tok.Decode(s.ids, s.skipSpecial)
	return s.emit(strings.TrimRight(s.text, "\uFFFD"))
}

// Flush returns the text not yet returned, a trailing U+FFFD included: the sequence is
// over, so an incomplete character stays incomplete.
func (s *Stream) Flush() string { return s.emit(s.text) }

// Text returns the decoding of every token added so far.
func (s *Stream) Text() string { return s.text }

// emit returns the part of final beyond what was sent, and marks it sent.
func (s *Stream) emit(final string) string {
	if len(final) <= len(s.sent) || !strings.HasPrefix(final, s.sent) {
		return ""
	}
	piece := final[len(s.sent):]
	s.sent = final
	return piece
}
