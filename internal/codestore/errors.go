package codestore

import (
	"errors"
	"fmt"
	"strconv"
)

// Reason classifies why a code package was rejected.
type Reason int

// Reasons for rejecting a package. The zero value is not used.
const (
	// ReasonUnreadable: not a zip, truncated, unreadable central directory,
	// encrypted entries or an unsupported compression method.
	ReasonUnreadable Reason = iota + 1
	// ReasonCorrupt: the archive parses but its content is inconsistent:
	// CRC mismatch, data longer or shorter than declared, overlapping entries,
	// or a stored blob that no longer matches its digest.
	ReasonCorrupt
	// ReasonTooLargeZipped: the zip is larger than Limits.MaxZipped.
	ReasonTooLargeZipped
	// ReasonTooLargeUnzipped: declared or actual uncompressed size is larger
	// than Limits.MaxUnzipped.
	ReasonTooLargeUnzipped
	// ReasonUnsafePath: an entry name is empty, absolute, escapes the package
	// root, contains NUL, a backslash, a drive letter or "..", is too long, or
	// lies below a non-directory entry.
	ReasonUnsafePath
	// ReasonSymlinkEscape: a symlink is absolute, loops, or resolves outside
	// the package.
	ReasonSymlinkEscape
	// ReasonSpecialFile: a device, FIFO, socket or other non-regular entry.
	ReasonSpecialFile
	// ReasonDuplicateEntry: two entries have the same cleaned name.
	ReasonDuplicateEntry
	// ReasonTooManyEntries: more entries than Limits.MaxEntries.
	ReasonTooManyEntries
	// ReasonSuspiciousRatio: an entry's compression ratio exceeds
	// Limits.MaxRatio.
	ReasonSuspiciousRatio
)

var reasonNames = map[Reason]string{
	ReasonUnreadable:       "Unreadable",
	ReasonCorrupt:          "Corrupt",
	ReasonTooLargeZipped:   "TooLargeZipped",
	ReasonTooLargeUnzipped: "TooLargeUnzipped",
	ReasonUnsafePath:       "UnsafePath",
	ReasonSymlinkEscape:    "SymlinkEscape",
	ReasonSpecialFile:      "SpecialFile",
	ReasonDuplicateEntry:   "DuplicateEntry",
	ReasonTooManyEntries:   "TooManyEntries",
	ReasonSuspiciousRatio:  "SuspiciousRatio",
}

// String returns the reason's name, for logs.
func (r Reason) String() string {
	if s, ok := reasonNames[r]; ok {
		return s
	}
	return "Reason(" + strconv.Itoa(int(r)) + ")"
}

// MsgCouldNotUnzip is AWS Lambda's message for a zip it cannot use.
const MsgCouldNotUnzip = "Could not unzip uploaded file. Please check your file, then try to upload again."

// Error is a validation failure of a code package. Its Error method returns
// the user-facing message (AWS's exact wording where AWS has one); Detail is
// the specific cause, suitable for logs.
//
// Functions of this package return it as *Error; use errors.As with a
// *Error target.
type Error struct {
	Reason Reason
	// Detail names the problem, usually including the offending entry, e.g.
	// `entry "../evil" escapes the package root`.
	Detail string
	// Limit is the limit that was exceeded, for the TooLarge reasons.
	Limit int64
}

// Error returns the user-facing message:
//
//   - Unreadable, Corrupt: MsgCouldNotUnzip, verbatim (the detail is only in Detail).
//   - TooLargeZipped: "Zipped size must be smaller than <Limit> bytes".
//   - TooLargeUnzipped: "Unzipped size must be smaller than <Limit> bytes".
//   - all others: MsgCouldNotUnzip + " (" + Detail + ")".
func (e *Error) Error() string {
	switch e.Reason {
	case ReasonTooLargeZipped:
		return fmt.Sprintf("Zipped size must be smaller than %d bytes", e.Limit)
	case ReasonTooLargeUnzipped:
		return fmt.Sprintf("Unzipped size must be smaller than %d bytes", e.Limit)
	case ReasonUnreadable, ReasonCorrupt:
		return MsgCouldNotUnzip
	}
	if e.Detail == "" {
		return MsgCouldNotUnzip
	}
	return MsgCouldNotUnzip + " (" + e.Detail + ")"
}

var (
	// ErrNotFound: no blob is stored under the given CodeSha256.
	ErrNotFound = errors.New("codestore: code package not found")
	// ErrInvalidSha256: the string is not a canonical base64 SHA-256 digest.
	ErrInvalidSha256 = errors.New("codestore: invalid CodeSha256")
)

func newErr(r Reason, format string, args ...any) *Error {
	return &Error{Reason: r, Detail: fmt.Sprintf(format, args...)}
}

// qname quotes an entry name for a message, shortening absurdly long ones.
func qname(name string) string {
	const max = 200
	if len(name) > max {
		return strconv.Quote(name[:max]) + "..."
	}
	return strconv.Quote(name)
}
