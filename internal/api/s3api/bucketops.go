package s3api

import (
	"bytes"
	"net/http"
	"regexp"
	"strings"

	"github.com/sluice-dev/sluice/internal/api/gateway"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/iam/policy"
	"github.com/sluice-dev/sluice/internal/s3"
	"github.com/sluice-dev/sluice/internal/s3/buckets"
)

// accountOwner is the owner every bucket and object shows: the one account.
func (h *Handler) owner(q *request) owner {
	id, _ := gateway.IdentityFrom(q.ctx())
	acct := "000000000000"
	if parts := strings.SplitN(id.Principal, ":", 6); len(parts) == 6 && parts[4] != "" {
		acct = parts[4]
	}
	return owner{ID: acct}
}

func (h *Handler) listBuckets(q *request) error {
	bs, err := h.svc.ListBuckets(q.ctx())
	if err != nil {
		return err
	}
	out := listAllMyBucketsResult{Xmlns: xmlns, Owner: h.owner(q)}
	for _, b := range bs {
		out.Buckets = append(out.Buckets, bucketMember{Name: b.Name, CreationDate: xmlTime(b.Created), BucketRegion: b.Region})
	}
	writeXML(q.w, out)
	return nil
}

func (h *Handler) createBucket(q *request) error {
	var cfg createBucketConfiguration
	b, err := readBody(q)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) > 0 {
		if err := xmlUnmarshal(b, &cfg); err != nil {
			return s3.ErrMalformedXML()
		}
	}
	if err := h.svc.CreateBucket(q.ctx(), q.bucket, cfg.LocationConstraint); err != nil {
		return err
	}
	q.w.Header().Set("Location", "/"+q.bucket)
	q.w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) headBucket(q *request) error {
	b, err := h.svc.GetBucket(q.ctx(), q.bucket)
	if err != nil {
		return err
	}
	q.w.Header().Set("x-amz-bucket-region", b.Region)
	q.w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) deleteBucket(q *request) error {
	if err := h.svc.DeleteBucket(q.ctx(), q.bucket); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) getBucketLocation(q *request) error {
	b, err := h.svc.GetBucket(q.ctx(), q.bucket)
	if err != nil {
		return err
	}
	loc := b.Region
	if loc == "us-east-1" {
		loc = "" // S3 answers an empty LocationConstraint for us-east-1
	}
	writeXML(q.w, locationConstraint{Xmlns: xmlns, Value: loc})
	return nil
}

// Bucket policies.

func (h *Handler) getBucketPolicy(q *request) error {
	b, err := h.svc.GetBucket(q.ctx(), q.bucket)
	if err != nil {
		return err
	}
	if b.Policy == "" {
		return s3.ErrNoSuchBucketPolicy()
	}
	q.w.Header().Set("Content-Type", "application/json")
	_, _ = q.w.Write([]byte(b.Policy))
	return nil
}

// maxPolicyBytes is S3's limit on a bucket policy.
const maxPolicyBytes = 20 << 10

func (h *Handler) putBucketPolicy(q *request) error {
	body, err := readBody(q)
	if err != nil {
		return err
	}
	if len(body) > maxPolicyBytes {
		return fault.New("PolicyTooLarge", "Policy exceeds the maximum allowed document size.")
	}
	doc, err := policy.Parse(string(body), policy.Resource)
	if err != nil {
		return fault.New(s3.CodeMalformedPolicy, "%s", policyMessage(err))
	}
	if err := checkPolicyResources(doc, q.bucket); err != nil {
		return err
	}
	if err := h.svc.UpdateBucket(q.ctx(), q.bucket, func(b *buckets.Bucket) error {
		b.Policy = string(body)
		return nil
	}); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

func policyMessage(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return msg
}

// checkPolicyResources applies S3's rule that a bucket policy's statements name the bucket or its objects.
func checkPolicyResources(doc *policy.Document, bucket string) error {
	for _, st := range doc.Statements {
		for _, r := range append(append([]string(nil), st.Resource...), st.NotResource...) {
			if r == "*" {
				continue
			}
			rest, ok := strings.CutPrefix(r, "arn:aws:s3:::")
			name, _, _ := strings.Cut(rest, "/")
			if !ok || !wildcardMatch(name, bucket) {
				return fault.New(s3.CodeMalformedPolicy, "Policy has invalid resource")
			}
		}
		for _, a := range append(append([]string(nil), st.Action...), st.NotAction...) {
			if a != "*" && !strings.HasPrefix(strings.ToLower(a), "s3:") {
				return fault.New(s3.CodeMalformedPolicy, "Policy has invalid action")
			}
		}
	}
	return nil
}

func wildcardMatch(pattern, s string) bool {
	re := "^" + strings.ReplaceAll(strings.ReplaceAll(regexp.QuoteMeta(pattern), `\*`, ".*"), `\?`, ".") + "$"
	ok, _ := regexp.MatchString(re, s)
	return ok
}

func (h *Handler) deleteBucketPolicy(q *request) error {
	if err := h.svc.UpdateBucket(q.ctx(), q.bucket, func(b *buckets.Bucket) error {
		b.Policy = ""
		return nil
	}); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

// Versioning.

func (h *Handler) getBucketVersioning(q *request) error {
	b, err := h.svc.GetBucket(q.ctx(), q.bucket)
	if err != nil {
		return err
	}
	writeXML(q.w, versioningConfiguration{Xmlns: xmlns, Status: b.Versioning})
	return nil
}

func (h *Handler) putBucketVersioning(q *request) error {
	var cfg versioningConfiguration
	if err := readXML(q, &cfg); err != nil {
		return err
	}
	if cfg.Status != buckets.VersioningEnabled && cfg.Status != buckets.VersioningSuspended {
		return s3.ErrMalformedXML()
	}
	if cfg.MfaDelete == "Enabled" {
		return s3.InvalidRequest("DevPay and Mfa are mutually exclusive authorization methods.")
	}
	if err := h.svc.UpdateBucket(q.ctx(), q.bucket, func(b *buckets.Bucket) error {
		b.Versioning = cfg.Status
		return nil
	}); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusOK)
	return nil
}

// Configuration documents kept as written.

func (h *Handler) getDocument(name string, missing func() error) op {
	return func(q *request) error {
		b, err := h.svc.GetBucket(q.ctx(), q.bucket)
		if err != nil {
			return err
		}
		doc, ok := b.Documents[name]
		if !ok {
			return missing()
		}
		writeRawXML(q.w, doc)
		return nil
	}
}

func (h *Handler) getBucketEncryption(q *request) error {
	b, err := h.svc.GetBucket(q.ctx(), q.bucket)
	if err != nil {
		return err
	}
	doc, ok := b.Documents[buckets.DocEncryption]
	if !ok {
		doc = defaultEncryption
	}
	writeRawXML(q.w, doc)
	return nil
}

func writeRawXML(w http.ResponseWriter, doc string) {
	doc = strings.TrimSpace(doc)
	if strings.HasPrefix(doc, "<?xml") {
		if i := strings.Index(doc, "?>"); i >= 0 {
			doc = strings.TrimSpace(doc[i+2:])
		}
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("x-amz-id-2", hostID)
	_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + doc))
}

func (h *Handler) putDocument(q *request, name string, check func([]byte) error, status int) error {
	body, err := readBody(q)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return s3.ErrMalformedXML()
	}
	if err := check(body); err != nil {
		return err
	}
	if err := h.svc.UpdateBucket(q.ctx(), q.bucket, func(b *buckets.Bucket) error {
		if b.Documents == nil {
			b.Documents = map[string]string{}
		}
		b.Documents[name] = string(body)
		return nil
	}); err != nil {
		return err
	}
	q.w.WriteHeader(status)
	return nil
}

func (h *Handler) deleteDocument(name string) op {
	return func(q *request) error {
		if err := h.svc.UpdateBucket(q.ctx(), q.bucket, func(b *buckets.Bucket) error {
			delete(b.Documents, name)
			return nil
		}); err != nil {
			return err
		}
		q.w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func (h *Handler) putBucketEncryption(q *request) error {
	return h.putDocument(q, buckets.DocEncryption, func(b []byte) error {
		var cfg encryptionConfiguration
		if xmlUnmarshal(b, &cfg) != nil || len(cfg.Rules) == 0 {
			return s3.ErrMalformedXML()
		}
		for _, r := range cfg.Rules {
			if r.Default == nil {
				return s3.ErrMalformedXML()
			}
			switch r.Default.SSEAlgorithm {
			case "AES256", "aws:kms", "aws:kms:dsse":
			default:
				return s3.ErrMalformedXML()
			}
		}
		return nil
	}, http.StatusOK)
}

func (h *Handler) putPublicAccessBlock(q *request) error {
	return h.putDocument(q, buckets.DocPublicAccessBlock, func(b []byte) error {
		var cfg publicAccessBlock
		if xmlUnmarshal(b, &cfg) != nil {
			return s3.ErrMalformedXML()
		}
		return nil
	}, http.StatusOK)
}

func (h *Handler) putBucketLifecycle(q *request) error {
	return h.putDocument(q, buckets.DocLifecycle, func(b []byte) error {
		var cfg lifecycleConfiguration
		if xmlUnmarshal(b, &cfg) != nil || len(cfg.Rules) == 0 || len(cfg.Rules) > 1000 {
			return s3.ErrMalformedXML()
		}
		ids := map[string]bool{}
		for _, r := range cfg.Rules {
			if r.Status != "Enabled" && r.Status != "Disabled" || len(r.ID) > 255 {
				return s3.ErrMalformedXML()
			}
			if r.ID != "" && ids[r.ID] {
				return s3.InvalidArgument("Rule ID must be unique. Found same ID for more than one rule")
			}
			ids[r.ID] = true
			actions := 0
			for _, e := range r.Elements {
				switch e.XMLName.Local {
				case "Expiration", "Transition", "NoncurrentVersionExpiration", "NoncurrentVersionTransition", "AbortIncompleteMultipartUpload":
					actions++
				}
			}
			if actions == 0 {
				return s3.InvalidRequest("At least one action needs to be specified in a rule")
			}
		}
		return nil
	}, http.StatusOK)
}

func (h *Handler) putBucketTagging(q *request) error {
	return h.putDocument(q, buckets.DocTagging, func(b []byte) error {
		var cfg tagging
		if xmlUnmarshal(b, &cfg) != nil {
			return s3.ErrMalformedXML()
		}
		return checkTags(cfg.TagSet, 50)
	}, http.StatusNoContent)
}

// checkTags applies S3's rules on a tag set.
func checkTags(tags []tag, max int) error {
	if len(tags) > max {
		return fault.New(s3.CodeInvalidTag, "Object tags cannot be greater than %d", max)
	}
	seen := map[string]bool{}
	for _, t := range tags {
		switch {
		case t.Key == "" || len(t.Key) > 128:
			return fault.New(s3.CodeInvalidTag, "The TagKey you have provided is invalid")
		case len(t.Value) > 256:
			return fault.New(s3.CodeInvalidTag, "The TagValue you have provided is invalid")
		case seen[t.Key]:
			return fault.New(s3.CodeInvalidTag, "Cannot provide multiple Tags with the same key")
		case strings.HasPrefix(strings.ToLower(t.Key), "aws:"):
			return fault.New(s3.CodeInvalidTag, "Your TagKey cannot be prefixed with aws:")
		}
		seen[t.Key] = true
	}
	return nil
}
