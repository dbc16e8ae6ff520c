package s3api

import (
	"net/http"

	"encoding/xml"
	"github.com/sluice-dev/sluice/internal/s3"

	"github.com/sluice-dev/sluice/internal/api/gateway"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/sigv4"
)

func faultNew(code, msg string) error { return fault.New(code, "%s", msg) }

func payloadOf(q *request) *sigv4.Payload { return gateway.S3Payload(q.r) }

func virtualBucket(q *request) (string, bool) { return gateway.S3Bucket(q.r) }

func xmlUnmarshal(b []byte, v any) error { return xml.Unmarshal(b, v) }

// conditionsFrom reads the four precondition headers under their names with prefix ("" for GetObject's,
// "x-amz-copy-source-" for a copy's). A date that does not parse is ignored, as HTTP says.
func conditionsFrom(h http.Header, prefix string) s3.Conditions {
	c := s3.Conditions{IfMatch: h.Get(prefix + "If-Match"), IfNoneMatch: h.Get(prefix + "If-None-Match")}
	if t, err := http.ParseTime(h.Get(prefix + "If-Modified-Since")); err == nil {
		c.IfModifiedSince = t
	}
	if t, err := http.ParseTime(h.Get(prefix + "If-Unmodified-Since")); err == nil {
		c.IfUnmodifiedSince = t
	}
	return c
}
