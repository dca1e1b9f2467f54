package model

import (
	"bufio"
	"io"
	"strconv"
)

// WriteLogitsJSON writes logits, rows of vocab > 0 values (as Forward returns them), as the
// JSON object {"logits": [[...], ...]}, one row per position, each value in the shortest
// form that reads back as the same float32 (NaN and infinities, which JSON lacks, as null).
func WriteLogitsJSON(w io.Writer, logits []float32, vocab int) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(`{"logits": [`)
	buf := make([]byte, 0, 32)
	for t := range len(logits) / vocab {
		if t > 0 {
			bw.WriteString(", ")
		}
		bw.WriteByte('[')
		for v, x := range logits[t*vocab : (t+1)*vocab] {
			if v > 0 {
				bw.WriteString(", ")
			}
			bw.Write(appendFloat32(buf[:0], x))
		}
		bw.WriteByte(']')
	}
	bw.WriteString("]}\n")
	return bw.Flush()
}

// appendFloat32 appends x in the shortest form that reads back as the same float32;
// JSON has no NaN or infinity, so those become null.
func appendFloat32(b []byte, x float32) []byte {
	f := float64(x)
	if f != f || f > 3.5e38 || f < -3.5e38 {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 32)
}
