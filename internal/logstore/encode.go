package logstore

import (
	"strconv"
	"unicode/utf8"
)

// appendEvent appends e as the JSON line Append stores ({"t":…,"i":…,"s":…,"m":…}, no newline). It is the invoke
// path's encoder, written out because encoding/json's reflection was most of Append's cost; the reader decodes
// lines with encoding/json, and appendEvent writes what json.Marshal would mean (invalid UTF-8 becomes U+FFFD).
func appendEvent(b []byte, e Event) []byte {
	b = append(b, `{"t":`...)
	b = strconv.AppendInt(b, e.Timestamp, 10)
	b = append(b, `,"i":`...)
	b = strconv.AppendInt(b, e.IngestionTime, 10)
	b = append(b, `,"s":`...)
	b = appendString(b, e.Stream)
	b = append(b, `,"m":`...)
	b = appendString(b, e.Message)
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string: quotes, backslashes and control characters escaped, invalid UTF-8
// replaced by U+FFFD, and U+2028 and U+2029 escaped (JavaScript readers of the raw lines may choke on them).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
