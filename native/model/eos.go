package model

// EOSIDs returns config.json's eos_token_id, which is a number or a list of numbers.
func (c *Config) EOSIDs() []int32 {
	switch x := c.EOSTokenID.(type) {
	case float64:
		return []int32{int32(x)}
	case int:
		return []int32{int32(x)}
	case []any:
		var ids []int32
		for _, e := range x {
			switch f := e.(type) {
			case float64:
				ids = append(ids, int32(f))
			case int:
				ids = append(ids, int32(f))
			}
		}
		return ids
	}
	return nil
}
