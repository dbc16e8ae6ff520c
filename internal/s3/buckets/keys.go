package buckets

import (
	"fmt"
	"strings"
)

const (
	bucketPrefix = "s3/bucket/"
	objRoot      = "s3/obj/"
	verRoot      = "s3/ver/"
	upRoot       = "s3/up/"
	partRoot     = "s3/part/"
)

func bucketKey(b string) string             { return bucketPrefix + b }
func objPrefix(b string) string             { return objRoot + b + "/" }
func objKey(b, k string) string             { return objPrefix(b) + k }
func verPrefix(b string) string             { return verRoot + b + "/" }
func keyVersions(b, k string) string        { return verPrefix(b) + k + "\x00" }
func verKey(b, k string, seq uint64) string { return keyVersions(b, k) + fmt.Sprintf("%016x", ^seq) }
func upPrefix(b string) string              { return upRoot + b + "/" }
func upKey(b, k, id string) string          { return upPrefix(b) + k + "\x00" + id }
func partPrefix(id string) string           { return partRoot + id + "/" }
func partKey(id string, n int) string       { return partPrefix(id) + fmt.Sprintf("%05d", n) }

// splitVersionKey returns the object key of a version record's store key (below verPrefix).
func splitVersionKey(rest string) string {
	k, _, _ := strings.Cut(rest, "\x00")
	return k
}
