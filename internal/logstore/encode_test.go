package logstore

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestAppendEventDecodesAsMarshal checks that what appendEvent writes is valid JSON that decodes to what
// json.Marshal's encoding of the same event decodes to (the reader decodes with encoding/json).
func TestAppendEventDecodesAsMarshal(t *testing.T) {
	for _, msg := range []string{
		"",
		"START RequestId: 8f2c Version: 1",
		"REPORT RequestId: 8f2c\tDuration: 0.41 ms\tBilled Duration: 1 ms\t",
		`quotes " and \ backslashes \" and \\`,
		"control \x00\x01\x1f\x7f characters\r\n",
		"<html> & entities",
		"unicode: héllo 世界 🙂",
		"separators \u2028 and \u2029",
		"invalid utf-8: \xff\xfe, truncated \xe4\xb8, lone continuation \x80",
		strings.Repeat("long line ", 1000),
	} {
		e := Event{Timestamp: 1733580000123, IngestionTime: -5, Stream: "2026/12/07/[1]abc\"def", Message: msg}
		line := appendEvent(nil, e)
		if !json.Valid(line) {
			t.Fatalf("%q: invalid JSON %q", msg, line)
		}
		var got, want Event
		if err := json.Unmarshal(line, &got); err != nil {
			t.Fatal(err)
		}
		ref, _ := json.Marshal(e)
		if err := json.Unmarshal(ref, &want); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%q: decoded %+v, json.Marshal's line decodes to %+v", msg, got, want)
		}
	}
}

func FuzzAppendEvent(f *testing.F) {
	f.Add("plain", "stream")
	f.Add("\x00\"\\\u2028\xff", "s")
	f.Fuzz(func(t *testing.T, msg, stream string) {
		e := Event{Timestamp: 1, IngestionTime: 2, Stream: stream, Message: msg}
		line := appendEvent(nil, e)
		var got, want Event
		if err := json.Unmarshal(line, &got); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		ref, _ := json.Marshal(e)
		json.Unmarshal(ref, &want)
		if got != want {
			t.Fatalf("decoded %+v, want %+v", got, want)
		}
	})
}

// BenchmarkEncode encodes what one invocation appends (START, END, REPORT), as Append did with json.Marshal and
// as it does now.
func BenchmarkEncode(b *testing.B) {
	const stream = "2026/12/07/[1]0123456789abcdef0123456789abcdef"
	events := []Event{
		{Timestamp: 1733580000123, IngestionTime: 1733580000124, Stream: stream, Message: "START RequestId: 5a3c4f3e-8d41-4d5a-9a3c-7d1b2c3d4e5f Version: 1"},
		{Timestamp: 1733580000123, IngestionTime: 1733580000124, Stream: stream, Message: "END RequestId: 5a3c4f3e-8d41-4d5a-9a3c-7d1b2c3d4e5f"},
		{Timestamp: 1733580000123, IngestionTime: 1733580000124, Stream: stream, Message: "REPORT RequestId: 5a3c4f3e-8d41-4d5a-9a3c-7d1b2c3d4e5f\tDuration: 0.41 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 9 MB\t"},
	}
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var buf []byte
			for _, e := range events {
				line, _ := json.Marshal(e)
				buf = append(append(buf, line...), '\n')
			}
		}
	})
	b.Run("appendEvent", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf := make([]byte, 0, 512)
			for _, e := range events {
				buf = append(appendEvent(buf, e), '\n')
			}
		}
	})
}
