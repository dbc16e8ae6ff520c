package s3api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/sluice-dev/sluice/internal/s3"
	"github.com/sluice-dev/sluice/internal/s3/buckets"
)

func (h *Handler) createMultipartUpload(q *request) error {
	meta, err := objectMeta(q.r.Header)
	if err != nil {
		return err
	}
	var alg s3.Algorithm
	if v := q.r.Header.Get("x-amz-checksum-algorithm"); v != "" {
		a, ok := s3.ParseAlgorithm(v)
		if !ok {
			return s3.InvalidRequest("Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
		}
		alg = a
	}
	u, err := h.svc.CreateUpload(q.ctx(), q.bucket, q.key, meta, alg, strings.ToUpper(q.r.Header.Get("x-amz-checksum-type")))
	if err != nil {
		return err
	}
	q.w.Header().Set("x-amz-server-side-encryption", "AES256")
	if u.ChecksumAlgorithm != "" {
		q.w.Header().Set("x-amz-checksum-algorithm", string(u.ChecksumAlgorithm))
		q.w.Header().Set("x-amz-checksum-type", u.ChecksumType)
	}
	writeXML(q.w, initiateMultipartUploadResult{Xmlns: xmlns, Bucket: q.bucket, Key: q.key, UploadID: u.UploadID})
	return nil
}

func partNumber(q *request) (int, error) {
	n, err := strconv.Atoi(q.q.Get("partNumber"))
	if err != nil {
		return 0, s3.InvalidArgument("Part number must be an integer between 1 and 10000, inclusive")
	}
	return n, s3.CheckPartNumber(n)
}

func (h *Handler) uploadPart(q *request) error {
	n, err := partNumber(q)
	if err != nil {
		return err
	}
	d, err := digests(q)
	if err != nil {
		return err
	}
	p, err := h.svc.UploadPart(q.ctx(), q.bucket, q.key, q.q.Get("uploadId"), n, d, q.r.Body, bodySize(q))
	if err != nil {
		return err
	}
	q.w.Header().Set("ETag", p.ETag)
	q.w.Header().Set("x-amz-server-side-encryption", "AES256")
	if p.Checksum != "" && d.Algorithm != "" {
		q.w.Header().Set(d.Algorithm.Header(), p.Checksum)
	}
	q.w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) uploadPartCopy(q *request) error {
	n, err := partNumber(q)
	if err != nil {
		return err
	}
	src, err := copySource(q.r.Header.Get("x-amz-copy-source"))
	if err != nil {
		return err
	}
	if err := h.authorizeSource(q, src); err != nil {
		return err
	}
	var rng *s3.Range
	if v := q.r.Header.Get("x-amz-copy-source-range"); v != "" {
		first, last, ok := strings.Cut(strings.TrimPrefix(v, "bytes="), "-")
		a, err1 := strconv.ParseInt(first, 10, 64)
		b, err2 := strconv.ParseInt(last, 10, 64)
		if !strings.HasPrefix(v, "bytes=") || !ok || err1 != nil || err2 != nil || a < 0 || b < a {
			return s3.InvalidArgument("The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy")
		}
		rng = &s3.Range{Start: a, Length: b - a + 1}
	}
	p, sv, err := h.svc.UploadPartCopy(q.ctx(), q.bucket, q.key, q.q.Get("uploadId"), n, src, rng, conditionsFrom(q.r.Header, "x-amz-copy-source-"))
	if err != nil {
		return err
	}
	if sv.VersionID != "" && sv.VersionID != buckets.NullVersion {
		q.w.Header().Set("x-amz-copy-source-version-id", sv.VersionID)
	}
	writeXML(q.w, copyPartResult{Xmlns: xmlns, ETag: p.ETag, LastModified: xmlTime(p.LastModified)})
	return nil
}

func (h *Handler) completeMultipartUpload(q *request) error {
	var in completeMultipartUpload
	if err := readXML(q, &in); err != nil {
		return err
	}
	ci := buckets.CompleteInput{PartChecksums: map[int]string{},
		Conditions: buckets.PutConditions{IfMatch: q.r.Header.Get("If-Match"), IfNoneMatch: q.r.Header.Get("If-None-Match")}}
	for _, p := range in.Parts {
		ci.Parts = append(ci.Parts, s3.CompletedPart{PartNumber: p.PartNumber, ETag: p.ETag})
		for _, v := range []string{p.ChecksumCRC32, p.ChecksumCRC32C, p.ChecksumCRC64NVME, p.ChecksumSHA1, p.ChecksumSHA256} {
			if v != "" {
				ci.PartChecksums[p.PartNumber] = v
			}
		}
	}
	v, err := h.svc.CompleteUpload(q.ctx(), q.bucket, q.key, q.q.Get("uploadId"), ci)
	if err != nil {
		return err
	}
	if v.VersionID != buckets.NullVersion {
		q.w.Header().Set("x-amz-version-id", v.VersionID)
	}
	q.w.Header().Set("x-amz-server-side-encryption", "AES256")
	scheme := "http"
	if q.r.TLS != nil {
		scheme = "https"
	}
	out := completeMultipartUploadResult{Xmlns: xmlns, Location: scheme + "://" + q.r.Host + "/" + q.bucket + "/" + q.key,
		Bucket: q.bucket, Key: q.key, ETag: v.ETag}
	if _, virtual := virtualBucket(q); virtual {
		out.Location = scheme + "://" + q.r.Host + "/" + q.key
	}
	// The object's checksum is reported when the upload named an algorithm, as S3 does.
	if ck := q.r.Header.Get("x-amz-checksum-type"); ck != "" || len(ci.PartChecksums) > 0 {
		out.ChecksumType = v.ChecksumType
		setChecksum(v.ChecksumAlgorithm, v.Checksum, &out.ChecksumCRC32, &out.ChecksumCRC32C, &out.ChecksumCRC64NVME, &out.ChecksumSHA1, &out.ChecksumSHA256)
	}
	writeXML(q.w, out)
	return nil
}

func (h *Handler) abortMultipartUpload(q *request) error {
	if err := h.svc.AbortUpload(q.ctx(), q.bucket, q.key, q.q.Get("uploadId")); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) listParts(q *request) error {
	max, err := maxKeys(q, "max-parts")
	if err != nil {
		return err
	}
	after := 0
	if v := q.q.Get("part-number-marker"); v != "" {
		if after, err = strconv.Atoi(v); err != nil || after < 0 {
			return s3.InvalidArgument("Provided part-number-marker not an integer or within integer range")
		}
	}
	u, parts, truncated, err := h.svc.ListParts(q.ctx(), q.bucket, q.key, q.q.Get("uploadId"), after, max)
	if err != nil {
		return err
	}
	own := h.owner(q)
	out := listPartsResult{Xmlns: xmlns, Bucket: q.bucket, Key: q.key, UploadID: u.UploadID, PartNumberMarker: after, MaxParts: max,
		IsTruncated: truncated, Initiator: own, Owner: own, StorageClass: "STANDARD", ChecksumAlgorithm: string(u.ChecksumAlgorithm),
		ChecksumType: u.ChecksumType}
	for _, p := range parts {
		lp := part{PartNumber: p.Number, LastModified: xmlTime(p.LastModified), ETag: p.ETag, Size: p.Size}
		setChecksum(u.ChecksumAlgorithm, p.Checksum, &lp.ChecksumCRC32, &lp.ChecksumCRC32C, &lp.ChecksumCRC64NVME, &lp.ChecksumSHA1, &lp.ChecksumSHA256)
		out.Parts = append(out.Parts, lp)
		out.NextPartNumberMarker = p.Number
	}
	writeXML(q.w, out)
	return nil
}

func (h *Handler) listMultipartUploads(q *request) error {
	max, err := maxKeys(q, "max-uploads")
	if err != nil {
		return err
	}
	in := buckets.ListInput{Prefix: q.q.Get("prefix"), Delimiter: q.q.Get("delimiter"), After: q.q.Get("key-marker"),
		VersionAfter: q.q.Get("upload-id-marker"), MaxKeys: max}
	ups, prefixes, truncated, err := h.svc.ListUploads(q.ctx(), q.bucket, in)
	if err != nil {
		return err
	}
	own := h.owner(q)
	out := listMultipartUploadsResult{Xmlns: xmlns, Bucket: q.bucket, KeyMarker: in.After, UploadIDMarker: in.VersionAfter,
		Prefix: in.Prefix, Delimiter: in.Delimiter, MaxUploads: max, IsTruncated: truncated}
	for _, u := range ups {
		out.Uploads = append(out.Uploads, upload{Key: u.Key, UploadID: u.UploadID, Initiator: own, Owner: own, StorageClass: "STANDARD",
			Initiated: xmlTime(u.Initiated), ChecksumAlgorithm: string(u.ChecksumAlgorithm), ChecksumType: u.ChecksumType})
		out.NextKeyMarker, out.NextUploadIDMarker = u.Key, u.UploadID
	}
	for _, p := range prefixes {
		out.CommonPrefixes = append(out.CommonPrefixes, commonPrefix{Prefix: p})
	}
	writeXML(q.w, out)
	return nil
}
