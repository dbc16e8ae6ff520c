package oidc

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Claims are the verified token's claims, exactly as in its payload.
//
// JSON numbers are kept as [json.Number], so large integer claims survive
// without float rounding; objects are
// map[string]any and arrays []any, as encoding/json decodes them.
type Claims map[string]any

// Issuer returns the "iss" claim, or "" if it is absent or not a string.
func (c Claims) Issuer() string { return c.str("iss") }

// Subject returns the "sub" claim, or "" if it is absent or not a string.
func (c Claims) Subject() string { return c.str("sub") }

// Audience returns the "aud" claim, which may be a single string or a list;
// non-string list elements are skipped.
func (c Claims) Audience() []string {
	switch v := c["aud"].(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return v
	}
	return nil
}

// StringValues returns the claim as strings, for building IAM condition-key
// contexts: a string is one value, a list is one value per element, and
// numbers and booleans are formatted ("12345", "true"). Objects and nulls
// have no string form and are skipped. It returns nil if the claim is absent
// or has no string form.
func (c Claims) StringValues(name string) []string {
	v, ok := c[name]
	if !ok {
		return nil
	}
	var list []any
	switch v := v.(type) {
	case []any:
		list = v
	case []string:
		if len(v) == 0 {
			return nil
		}
		return append([]string(nil), v...)
	default:
		list = []any{v}
	}
	var out []string
	for _, e := range list {
		if s, ok := scalarString(e); ok {
			out = append(out, s)
		}
	}
	return out
}

func (c Claims) str(name string) string {
	s, _ := c[name].(string)
	return s
}

// scalarString formats a scalar claim value. Besides the types
// encoding/json produces it accepts Go integers, so Claims built by hand
// (in tests, say) behave the same.
func scalarString(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		return strconv.FormatBool(v), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case float32:
		return strconv.FormatFloat(float64(v), 'f', -1, 32), true
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return fmt.Sprint(v), true
	}
	return "", false
}

// maxNumericDate bounds NumericDate claims to what time.Time handles without
// overflow; anything beyond the year 5000 is not a real date.
const maxNumericDate = 95617584000

// numericDate reads a NumericDate claim (seconds since the epoch, possibly
// fractional). present is false when the claim is absent.
func (c Claims) numericDate(name string) (t time.Time, present bool, err error) {
	v, ok := c[name]
	if !ok {
		return time.Time{}, false, nil
	}
	var f float64
	switch v := v.(type) {
	case json.Number:
		f, err = v.Float64()
	case float64:
		f = v
	case int64:
		f = float64(v)
	case int:
		f = float64(v)
	default:
		err = fmt.Errorf("not a number")
	}
	if err != nil || math.IsNaN(f) || math.Abs(f) > maxNumericDate {
		return time.Time{}, true, errInvalid("The %s claim is not a valid NumericDate", name)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true, nil
}
