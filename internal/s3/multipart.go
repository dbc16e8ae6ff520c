package s3

import (
	"crypto/md5"
	"encoding/hex"
	"strconv"
	"strings"
)

// Multipart upload limits.
const (
	MinPartSize   = 5 << 20 // every part but the last
	MaxPartSize   = 5 << 30
	MaxPartNumber = 10000
)

// CompletedPart is one part a CompleteMultipartUpload names.
type CompletedPart struct {
	PartNumber int
	ETag       string
}

// UploadedPart is what was stored for a part number.
type UploadedPart struct {
	PartNumber int
	ETag       string // quoted MD5 of the part
	Size       int64
}

// CheckCompletion applies CompleteMultipartUpload's checks: at least one part, part numbers ascending
// (InvalidPartOrder), each uploaded with the ETag given (InvalidPart), every part but the last at least 5 MiB
// (EntityTooSmall). It returns the uploaded parts in order.
func CheckCompletion(named []CompletedPart, uploaded map[int]UploadedPart) ([]UploadedPart, error) {
	if len(named) == 0 {
		return nil, ErrMalformedXML()
	}
	out := make([]UploadedPart, 0, len(named))
	for i, p := range named {
		if i > 0 && p.PartNumber <= named[i-1].PartNumber {
			return nil, ErrInvalidPartOrder()
		}
		u, ok := uploaded[p.PartNumber]
		if !ok || strings.Trim(p.ETag, `"`) != strings.Trim(u.ETag, `"`) {
			return nil, ErrInvalidPart()
		}
		out = append(out, u)
	}
	for _, u := range out[:len(out)-1] {
		if u.Size < MinPartSize {
			return nil, ErrEntityTooSmall()
		}
	}
	return out, nil
}

// MultipartETag is the ETag of an object assembled from parts: the MD5 of the parts' binary MD5s, a dash and the
// number of parts, quoted.
func MultipartETag(parts []UploadedPart) string {
	h := md5.New()
	for _, p := range parts {
		b, _ := hex.DecodeString(strings.Trim(p.ETag, `"`))
		h.Write(b)
	}
	return `"` + hex.EncodeToString(h.Sum(nil)) + "-" + strconv.Itoa(len(parts)) + `"`
}

// CheckPartNumber applies the range of part numbers.
func CheckPartNumber(n int) error {
	if n < 1 || n > MaxPartNumber {
		return InvalidArgument("Part number must be an integer between 1 and 10000, inclusive")
	}
	return nil
}
