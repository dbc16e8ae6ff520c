package s3

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"strconv"
	"strings"

	"github.com/sluice-dev/sluice/internal/fault"
)

// Algorithm is a flexible checksum algorithm, spelled as S3 spells it (x-amz-checksum-<lower case>).
type Algorithm string

// The algorithms S3 takes.
const (
	CRC32     Algorithm = "CRC32"
	CRC32C    Algorithm = "CRC32C"
	CRC64NVME Algorithm = "CRC64NVME"
	SHA1      Algorithm = "SHA1"
	SHA256    Algorithm = "SHA256"
)

// Algorithms lists them in the order headers are looked for.
var Algorithms = []Algorithm{CRC32, CRC32C, CRC64NVME, SHA1, SHA256}

// Checksum types.
const (
	FullObject = "FULL_OBJECT"
	Composite  = "COMPOSITE"
)

// crc64NVME is CRC-64/NVME (reflected polynomial 0x9a6c9329ac4bc9b5, init and final xor all ones, as Go's crc64
// does), which S3 computes for every object uploaded without a checksum of its own.
var crc64NVME = crc64.MakeTable(0x9a6c9329ac4bc9b5)

// ParseAlgorithm reads an algorithm name in any case; ok is false for one S3 does not know.
func ParseAlgorithm(s string) (Algorithm, bool) {
	a := Algorithm(strings.ToUpper(s))
	for _, k := range Algorithms {
		if a == k {
			return a, true
		}
	}
	return "", false
}

// Header is the request and response header that carries the algorithm's value.
func (a Algorithm) Header() string { return "x-amz-checksum-" + strings.ToLower(string(a)) }

// New returns a hash computing the algorithm.
func (a Algorithm) New() hash.Hash {
	switch a {
	case CRC32:
		return crc32.NewIEEE()
	case CRC32C:
		return crc32.New(crc32.MakeTable(crc32.Castagnoli))
	case CRC64NVME:
		return crc64.New(crc64NVME)
	case SHA1:
		return sha1.New()
	case SHA256:
		return sha256.New()
	}
	return nil
}

// Size is the byte length of the algorithm's digest.
func (a Algorithm) Size() int { return a.New().Size() }

// DefaultType is the checksum type of a multipart object when the upload does not say: full object for
// CRC64NVME, composite for the others.
func (a Algorithm) DefaultType() string {
	if a == CRC64NVME {
		return FullObject
	}
	return Composite
}

// CheckValue checks that a checksum value a client sent is base64 of a digest of the algorithm's size.
func (a Algorithm) CheckValue(v string) error {
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(b) != a.Size() {
		return InvalidRequest("Value for %s header is invalid.", a.Header())
	}
	return nil
}

// Mismatch is S3's answer when a checksum a client sent is not the one computed.
func (a Algorithm) Mismatch() error {
	return fault.New(CodeBadDigest, "The %s you specified did not match the calculated checksum.", string(a))
}

// Encode spells a digest as S3 does: standard base64.
func Encode(sum []byte) string { return base64.StdEncoding.EncodeToString(sum) }

// CompositeChecksum is a multipart object's COMPOSITE checksum: the algorithm over the parts' binary checksums,
// then "-" and the number of parts.
func CompositeChecksum(a Algorithm, partValues []string) string {
	h := a.New()
	for _, v := range partValues {
		b, _ := base64.StdEncoding.DecodeString(v)
		h.Write(b)
	}
	return Encode(h.Sum(nil)) + "-" + strconv.Itoa(len(partValues))
}
