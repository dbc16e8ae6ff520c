package modelcheck

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// blobValue stands for a blob member's value in a document: present, but never held in memory (a function's zip
// is tens of megabytes; its constraints are not the model's to check).
type blobValue struct{}

// maxLiteral bounds a number, true, false or null.
const maxLiteral = 1 << 10

var errSyntax = errors.New("modelcheck: malformed JSON")

// decodeBody reads a JSON object the way Check wants it — members by name; strings, json.Number, bool, []any,
// map[string]any — without holding the values of blob members or of members the shape does not know, so checking
// a request costs memory in proportion to what is checked, not to the body. It reads from r and never buffers
// the body.
func decodeBody(s *Shape, r io.Reader) (map[string]any, error) {
	sc := &scanner{r: bufio.NewReaderSize(r, 32<<10)}
	v, err := sc.value(s)
	if err != nil {
		return nil, err
	}
	if sc.skipSpace() != 0 { // trailing data
		return nil, errSyntax
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, errSyntax
	}
	return doc, nil
}

type scanner struct {
	r   *bufio.Reader
	buf bytes.Buffer
}

// skipSpace skips whitespace and returns the next byte without consuming it (0 at the end).
func (sc *scanner) skipSpace() byte {
	for {
		c, err := sc.r.ReadByte()
		if err != nil {
			return 0
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		_ = sc.r.UnreadByte()
		return c
	}
}

func (sc *scanner) expect(want byte) error {
	if sc.skipSpace() != want {
		return errSyntax
	}
	_, _ = sc.r.ReadByte()
	return nil
}

// value reads one JSON value, typed by s (nil: a value nothing checks, skipped).
func (sc *scanner) value(s *Shape) (any, error) {
	switch c := sc.skipSpace(); {
	case c == '{':
		return sc.object(s)
	case c == '[':
		return sc.array(s)
	case c == '"':
		keep := s != nil && s.Kind != Blob
		str, err := sc.str(keep)
		if err != nil || !keep {
			return blobValue{}, err
		}
		return str, nil
	case c == 0:
		return nil, errSyntax
	default:
		return sc.literal()
	}
}

func (sc *scanner) object(s *Shape) (any, error) {
	_, _ = sc.r.ReadByte() // {
	out := map[string]any{}
	if sc.skipSpace() == '}' {
		_, _ = sc.r.ReadByte()
		return out, nil
	}
	for {
		if sc.skipSpace() != '"' {
			return nil, errSyntax
		}
		key, err := sc.str(true)
		if err != nil {
			return nil, err
		}
		if err := sc.expect(':'); err != nil {
			return nil, err
		}
		v, err := sc.value(s.memberShape(key))
		if err != nil {
			return nil, err
		}
		out[key] = v
		switch sc.skipSpace() {
		case ',':
			_, _ = sc.r.ReadByte()
		case '}':
			_, _ = sc.r.ReadByte()
			return out, nil
		default:
			return nil, errSyntax
		}
	}
}

func (sc *scanner) array(s *Shape) (any, error) {
	_, _ = sc.r.ReadByte() // [
	var item *Shape
	if s != nil && s.Kind == List {
		item = s.Item
	}
	out := []any{}
	if sc.skipSpace() == ']' {
		_, _ = sc.r.ReadByte()
		return out, nil
	}
	for {
		v, err := sc.value(item)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		switch sc.skipSpace() {
		case ',':
			_, _ = sc.r.ReadByte()
		case ']':
			_, _ = sc.r.ReadByte()
			return out, nil
		default:
			return nil, errSyntax
		}
	}
}

// memberShape is the shape of a structure's member or a map's value (nil: unknown, skipped).
func (s *Shape) memberShape(name string) *Shape {
	if s == nil {
		return nil
	}
	switch s.Kind {
	case Map:
		return s.Value
	case Structure:
		for _, m := range s.Members {
			if m.Name == name && m.Location == "" {
				return m.Shape
			}
		}
	}
	return nil
}

// str reads a string (the opening quote next); keep=false skips it without holding it.
func (sc *scanner) str(keep bool) (string, error) {
	_, _ = sc.r.ReadByte() // "
	sc.buf.Reset()
	sc.buf.WriteByte('"')
	escaped := false
	for {
		c, err := sc.r.ReadByte()
		if err != nil {
			return "", errSyntax
		}
		if keep {
			sc.buf.WriteByte(c)
		}
		switch {
		case escaped:
			escaped = false
		case c == '\\':
			escaped = true
		case c == '"':
			if !keep {
				return "", nil
			}
			var s string
			if err := json.Unmarshal(sc.buf.Bytes(), &s); err != nil {
				return "", errSyntax
			}
			return s, nil
		}
	}
}

// literal reads a number, true, false or null.
func (sc *scanner) literal() (any, error) {
	sc.buf.Reset()
	for {
		c, err := sc.r.ReadByte()
		if err != nil {
			break
		}
		if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			_ = sc.r.UnreadByte()
			break
		}
		if sc.buf.Len() >= maxLiteral {
			return nil, errSyntax
		}
		sc.buf.WriteByte(c)
	}
	switch lit := sc.buf.String(); lit {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "null":
		return nil, nil
	default:
		n := json.Number(lit)
		if _, err := n.Float64(); err != nil {
			return nil, errSyntax
		}
		return n, nil
	}
}
