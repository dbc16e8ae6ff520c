package s3api

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/s3"
	"github.com/sluice-dev/sluice/internal/s3/buckets"
)

// maxMetadataBytes is S3's limit on the user metadata of an object (names and values of x-amz-meta-*).
const maxMetadataBytes = 2 << 10

// objectMeta reads what a write sets beside the bytes from its headers.
func objectMeta(h http.Header) (buckets.ObjectMeta, error) {
	m := buckets.ObjectMeta{
		ContentType: h.Get("Content-Type"), ContentDisposition: h.Get("Content-Disposition"),
		ContentLanguage: h.Get("Content-Language"), CacheControl: h.Get("Cache-Control"), Expires: h.Get("Expires"),
	}
	var enc []string
	for _, e := range strings.Split(h.Get("Content-Encoding"), ",") {
		if e = strings.TrimSpace(e); e != "" && !strings.EqualFold(e, "aws-chunked") {
			enc = append(enc, e)
		}
	}
	m.ContentEncoding = strings.Join(enc, ",")
	if m.ContentType == "" {
		m.ContentType = "binary/octet-stream"
	}
	size := 0
	for k, vs := range h {
		name, ok := strings.CutPrefix(strings.ToLower(k), "x-amz-meta-")
		if !ok {
			continue
		}
		if m.Metadata == nil {
			m.Metadata = map[string]string{}
		}
		m.Metadata[name] = strings.Join(vs, ",")
		size += len(name) + len(m.Metadata[name])
	}
	if size > maxMetadataBytes {
		return m, fault.New("MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size")
	}
	if t := h.Get("x-amz-tagging"); t != "" {
		tags, err := parseTagging(t)
		if err != nil {
			return m, err
		}
		m.Tags = tags
	}
	return m, nil
}

// parseTagging reads x-amz-tagging: URL query encoding of the tag set.
func parseTagging(s string) ([]buckets.Tag, error) {
	var tags []tag
	for _, kv := range strings.Split(s, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		ku, err1 := url.QueryUnescape(k)
		vu, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return nil, s3.InvalidArgument("The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.")
		}
		tags = append(tags, tag{Key: ku, Value: vu})
	}
	if err := checkTags(tags, 10); err != nil {
		return nil, err
	}
	out := make([]buckets.Tag, len(tags))
	for i, t := range tags {
		out[i] = buckets.Tag{Key: t.Key, Value: t.Value}
	}
	return out, nil
}

// digests reads the integrity checks a write declares: Content-MD5, one x-amz-checksum-<algorithm> header, or the
// algorithm alone (x-amz-sdk-checksum-algorithm, or a checksum announced in x-amz-trailer, whose value arrives
// after the body).
func digests(q *request) (buckets.Digests, error) {
	h := q.r.Header
	d := buckets.Digests{ContentMD5: h.Get("Content-MD5")}
	if h.Get("Content-MD5") == "" && len(h.Values("Content-MD5")) > 0 {
		return d, s3.ErrInvalidDigest()
	}
	for _, a := range s3.Algorithms {
		if v := h.Get(a.Header()); v != "" {
			if d.Algorithm != "" {
				return d, s3.InvalidRequest("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
			}
			d.Algorithm, d.Value = a, v
		}
	}
	for _, t := range strings.Split(h.Get("x-amz-trailer"), ",") {
		t = strings.ToLower(strings.TrimSpace(t))
		name, ok := strings.CutPrefix(t, "x-amz-checksum-")
		if !ok {
			continue
		}
		a, known := s3.ParseAlgorithm(name)
		if !known {
			return d, s3.InvalidRequest("The value specified in the x-amz-trailer header is not supported")
		}
		if d.Algorithm != "" && d.Algorithm != a {
			return d, s3.InvalidRequest("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
		}
		d.Algorithm = a
		if p := payloadOf(q); p != nil {
			d.Trailer = func() string { return p.Trailer().Get(t) }
		}
	}
	if v := h.Get("x-amz-sdk-checksum-algorithm"); v != "" && d.Algorithm == "" {
		a, ok := s3.ParseAlgorithm(v)
		if !ok {
			return d, s3.InvalidRequest("Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
		}
		d.Algorithm = a
	}
	return d, nil
}

// bodySize is the payload's length: the decoded length of an aws-chunked body, else Content-Length (-1 unknown).
func bodySize(q *request) int64 {
	if p := payloadOf(q); p != nil && p.Chunked() {
		return p.DecodedLength()
	}
	return q.r.ContentLength
}

func (h *Handler) putObject(q *request) error {
	meta, err := objectMeta(q.r.Header)
	if err != nil {
		return err
	}
	d, err := digests(q)
	if err != nil {
		return err
	}
	cond := buckets.PutConditions{IfMatch: q.r.Header.Get("If-Match"), IfNoneMatch: q.r.Header.Get("If-None-Match")}
	if cond.IfNoneMatch != "" && cond.IfNoneMatch != "*" {
		return fault.New(s3.CodeNotImplemented, "A header you provided implies functionality that is not implemented")
	}
	v, err := h.svc.PutObject(q.ctx(), q.bucket, q.key, meta, d, cond, q.r.Body, bodySize(q))
	if err != nil {
		return err
	}
	writeVersionHeaders(q.w, v)
	q.w.Header().Set(v.ChecksumAlgorithm.Header(), v.Checksum) // the one sent, or the CRC64NVME S3 computes itself
	q.w.Header().Set("x-amz-checksum-type", v.ChecksumType)
	q.w.WriteHeader(http.StatusOK)
	return nil
}

// writeVersionHeaders sets the headers every write and read of a version carries.
func writeVersionHeaders(w http.ResponseWriter, v buckets.Version) {
	hd := w.Header()
	if v.ETag != "" {
		hd.Set("ETag", v.ETag)
	}
	if v.VersionID != "" && v.VersionID != buckets.NullVersion {
		hd.Set("x-amz-version-id", v.VersionID)
	}
	hd.Set("x-amz-server-side-encryption", "AES256")
	hd.Set("x-amz-id-2", hostID)
}

func (h *Handler) getObject(q *request) error {
	versionID := q.q.Get("versionId")
	v, err := h.svc.GetObject(q.ctx(), q.bucket, q.key, versionID)
	if v.DeleteMarker {
		q.w.Header().Set("x-amz-delete-marker", "true")
		q.w.Header().Set("x-amz-version-id", v.VersionID)
	}
	if err != nil {
		return err
	}
	hd := q.w.Header()
	writeVersionHeaders(q.w, v)
	hd.Set("Last-Modified", v.LastModified.UTC().Format(http.TimeFormat))
	if err := conditionsFrom(q.r.Header, "").Check(v.ETag, v.LastModified, true); err != nil {
		if fault.Is(err, s3.CodeNotModified) {
			q.w.WriteHeader(http.StatusNotModified)
			return nil
		}
		return err
	}
	m := v.Meta
	for name, val := range map[string]string{"Content-Type": m.ContentType, "Content-Encoding": m.ContentEncoding,
		"Content-Disposition": m.ContentDisposition, "Content-Language": m.ContentLanguage, "Cache-Control": m.CacheControl,
		"Expires": m.Expires} {
		if val != "" {
			hd.Set(name, val)
		}
	}
	for k, val := range m.Metadata {
		hd["x-amz-meta-"+k] = []string{val}
	}
	if len(m.Tags) > 0 {
		hd.Set("x-amz-tagging-count", strconv.Itoa(len(m.Tags)))
	}
	for _, o := range [][2]string{{"response-content-type", "Content-Type"}, {"response-content-language", "Content-Language"},
		{"response-expires", "Expires"}, {"response-cache-control", "Cache-Control"},
		{"response-content-disposition", "Content-Disposition"}, {"response-content-encoding", "Content-Encoding"}} {
		if val := q.q.Get(o[0]); val != "" {
			hd.Set(o[1], val)
		}
	}
	hd.Set("Accept-Ranges", "bytes")

	start, length, status := int64(0), v.Size, http.StatusOK
	if pn := q.q.Get("partNumber"); pn != "" {
		n, err := strconv.Atoi(pn)
		if err != nil || n < 1 || n > s3.MaxPartNumber {
			return s3.InvalidArgument("Part number must be an integer between 1 and 10000, inclusive")
		}
		parts := v.PartSizes
		if len(parts) == 0 {
			parts = []int64{v.Size}
		}
		if n > len(parts) {
			return fault.New("InvalidPartNumber", "The requested partnumber is not satisfiable")
		}
		for _, s := range parts[:n-1] {
			start += s
		}
		length = parts[n-1]
		hd.Set("x-amz-mp-parts-count", strconv.Itoa(len(parts)))
		if len(v.PartSizes) > 0 {
			status = http.StatusPartialContent
			hd.Set("Content-Range", s3.Range{Start: start, Length: length}.ContentRange(v.Size))
		}
	} else if rh := q.r.Header.Get("Range"); rh != "" {
		rng, ok, err := s3.ParseRange(rh, v.Size)
		if err != nil {
			hd.Set("Content-Range", "bytes */"+strconv.FormatInt(v.Size, 10))
			return err
		}
		if ok {
			start, length, status = rng.Start, rng.Length, http.StatusPartialContent
			hd.Set("Content-Range", rng.ContentRange(v.Size))
		}
	}
	if status == http.StatusOK && strings.EqualFold(q.r.Header.Get("x-amz-checksum-mode"), "ENABLED") && v.Checksum != "" {
		hd.Set(v.ChecksumAlgorithm.Header(), v.Checksum)
		hd.Set("x-amz-checksum-type", v.ChecksumType)
	}
	hd.Set("Content-Length", strconv.FormatInt(length, 10))
	if q.r.Method == http.MethodHead {
		q.w.WriteHeader(status)
		return nil
	}
	f, err := h.svc.OpenBlob(q.ctx(), v)
	if err != nil {
		hd.Del("Content-Length")
		return err
	}
	defer f.Close()
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		hd.Del("Content-Length")
		return err
	}
	q.w.WriteHeader(status)
	if _, err := io.CopyN(q.w, f, length); err != nil {
		h.log.Debug("object read cut short", "bucket", q.bucket, "err", err)
	}
	return nil
}

func (h *Handler) deleteObject(q *request) error {
	res, err := h.svc.DeleteObject(q.ctx(), q.bucket, q.key, q.q.Get("versionId"))
	if err != nil {
		return err
	}
	if res.VersionID != "" {
		q.w.Header().Set("x-amz-version-id", res.VersionID)
	}
	if res.DeleteMarker {
		q.w.Header().Set("x-amz-delete-marker", "true")
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) deleteObjects(q *request) error {
	var in deleteRequest
	if err := readXML(q, &in); err != nil {
		return err
	}
	if len(in.Objects) == 0 || len(in.Objects) > 1000 {
		return s3.ErrMalformedXML()
	}
	if _, err := h.svc.GetBucket(q.ctx(), q.bucket); err != nil {
		return err
	}
	out := deleteResult{Xmlns: xmlns}
	for _, o := range in.Objects {
		action := "s3:DeleteObject"
		if o.VersionID != "" {
			action = "s3:DeleteObjectVersion"
		}
		err := h.authorize(q, action, "arn:aws:s3:::"+q.bucket+"/"+o.Key)
		var res buckets.DeleteResult
		if err == nil {
			res, err = h.svc.DeleteObject(q.ctx(), q.bucket, o.Key, o.VersionID)
		}
		if err != nil {
			f, ok := fault.As(err)
			if !ok {
				f = fault.New(s3.CodeInternalError, "We encountered an internal error. Please try again.")
				h.log.Error("delete objects", "bucket", q.bucket, "err", err)
			}
			out.Errors = append(out.Errors, deleteError{Key: o.Key, VersionID: o.VersionID, Code: f.Code, Message: f.Message})
			continue
		}
		if in.Quiet {
			continue
		}
		d := deletedObject{Key: o.Key, VersionID: o.VersionID}
		if res.DeleteMarker {
			d.DeleteMarker = true
			if o.VersionID == "" {
				d.DeleteMarkerVersionID = res.VersionID
			}
		}
		out.Deleted = append(out.Deleted, d)
	}
	writeXML(q.w, out)
	return nil
}

// copySource reads x-amz-copy-source: "bucket/key[?versionId=...]", URL-encoded, with or without a leading slash.
func copySource(v string) (buckets.CopySource, error) {
	raw, query, _ := strings.Cut(strings.TrimPrefix(v, "/"), "?")
	path, err := url.PathUnescape(raw)
	if err != nil {
		return buckets.CopySource{}, s3.InvalidArgument("Invalid copy source encoding")
	}
	b, k, ok := strings.Cut(path, "/")
	if !ok || b == "" || k == "" {
		return buckets.CopySource{}, s3.InvalidArgument("Invalid copy source object key")
	}
	src := buckets.CopySource{Bucket: b, Key: k}
	if query != "" {
		qv, err := url.ParseQuery(query)
		if err != nil {
			return src, s3.InvalidArgument("Invalid copy source encoding")
		}
		src.VersionID = qv.Get("versionId")
	}
	return src, nil
}

func (h *Handler) authorizeSource(q *request, src buckets.CopySource) error {
	action := "s3:GetObject"
	if src.VersionID != "" {
		action = "s3:GetObjectVersion"
	}
	return h.authorize(q, action, "arn:aws:s3:::"+src.Bucket+"/"+src.Key)
}

func (h *Handler) copyObject(q *request) error {
	src, err := copySource(q.r.Header.Get("x-amz-copy-source"))
	if err != nil {
		return err
	}
	if err := h.authorizeSource(q, src); err != nil {
		return err
	}
	in := buckets.CopyInput{Source: src, Bucket: q.bucket, Key: q.key, Conditions: conditionsFrom(q.r.Header, "x-amz-copy-source-")}
	switch d := strings.ToUpper(q.r.Header.Get("x-amz-metadata-directive")); d {
	case "", "COPY":
	case "REPLACE":
		in.Replace = true
	default:
		return s3.InvalidArgument("Unknown metadata directive.")
	}
	switch d := strings.ToUpper(q.r.Header.Get("x-amz-tagging-directive")); d {
	case "", "COPY":
	case "REPLACE":
		in.ReplaceTag = true
	default:
		return s3.InvalidArgument("Unknown tagging directive.")
	}
	if in.Replace || in.ReplaceTag {
		if in.Meta, err = objectMeta(q.r.Header); err != nil {
			return err
		}
	}
	if a := q.r.Header.Get("x-amz-checksum-algorithm"); a != "" {
		alg, ok := s3.ParseAlgorithm(a)
		if !ok {
			return s3.InvalidRequest("Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
		}
		in.Checksum = alg
	}
	sv, v, err := h.svc.CopyObject(q.ctx(), in)
	if err != nil {
		return err
	}
	if sv.VersionID != "" && sv.VersionID != buckets.NullVersion {
		q.w.Header().Set("x-amz-copy-source-version-id", sv.VersionID)
	}
	if v.VersionID != buckets.NullVersion {
		q.w.Header().Set("x-amz-version-id", v.VersionID)
	}
	q.w.Header().Set("x-amz-server-side-encryption", "AES256")
	out := copyObjectResult{Xmlns: xmlns, ETag: v.ETag, LastModified: xmlTime(v.LastModified), ChecksumType: v.ChecksumType}
	setChecksum(v.ChecksumAlgorithm, v.Checksum, &out.ChecksumCRC32, &out.ChecksumCRC32C, &out.ChecksumCRC64, &out.ChecksumSHA1, &out.ChecksumSHA256)
	writeXML(q.w, out)
	return nil
}

// setChecksum puts a value in the field of its algorithm.
func setChecksum(a s3.Algorithm, v string, crc32, crc32c, crc64, sha1, sha256 *string) {
	switch a {
	case s3.CRC32:
		*crc32 = v
	case s3.CRC32C:
		*crc32c = v
	case s3.CRC64NVME:
		*crc64 = v
	case s3.SHA1:
		*sha1 = v
	case s3.SHA256:
		*sha256 = v
	}
}

// maxKeys reads max-keys (default and cap 1000).
func maxKeys(q *request, name string) (int, error) {
	v := q.q.Get(name)
	if v == "" {
		return 1000, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, s3.InvalidArgument("Provided %s not an integer or within integer range", name)
	}
	return min(n, 1000), nil
}

func encodingType(q *request) (string, error) {
	e := q.q.Get("encoding-type")
	if e != "" && e != "url" {
		return "", s3.InvalidArgument("Invalid Encoding Method specified in Request")
	}
	return e, nil
}

func (h *Handler) listObjects(q *request) error {
	max, err := maxKeys(q, "max-keys")
	if err != nil {
		return err
	}
	enc, err := encodingType(q)
	if err != nil {
		return err
	}
	in := buckets.ListInput{Prefix: q.q.Get("prefix"), Delimiter: q.q.Get("delimiter"), After: q.q.Get("marker"), MaxKeys: max}
	res, err := h.svc.ListObjects(q.ctx(), q.bucket, in)
	if err != nil {
		return err
	}
	marker := encodeKey(in.After, enc)
	out := listBucketResult{Xmlns: xmlns, Name: q.bucket, Prefix: encodeKey(in.Prefix, enc), Marker: &marker, MaxKeys: max,
		Delimiter: encodeKey(in.Delimiter, enc), EncodingType: enc, IsTruncated: res.Truncated}
	if res.Truncated && in.Delimiter != "" {
		out.NextMarker = encodeKey(res.Next, enc)
	}
	own := h.owner(q)
	for _, v := range res.Objects {
		out.Contents = append(out.Contents, listed(v, enc, &own))
	}
	for _, p := range res.CommonPrefixes {
		out.CommonPrefixes = append(out.CommonPrefixes, commonPrefix{Prefix: encodeKey(p, enc)})
	}
	writeXML(q.w, out)
	return nil
}

func listed(v buckets.Version, enc string, own *owner) object {
	return object{Key: encodeKey(v.Key, enc), LastModified: xmlTime(v.LastModified), ETag: v.ETag, Size: v.Size,
		Owner: own, StorageClass: "STANDARD", ChecksumAlgorithm: string(v.ChecksumAlgorithm), ChecksumType: v.ChecksumType}
}

func (h *Handler) listObjectsV2(q *request) error {
	max, err := maxKeys(q, "max-keys")
	if err != nil {
		return err
	}
	enc, err := encodingType(q)
	if err != nil {
		return err
	}
	in := buckets.ListInput{Prefix: q.q.Get("prefix"), Delimiter: q.q.Get("delimiter"), MaxKeys: max}
	token := q.q.Get("continuation-token")
	if _, ok := q.q["continuation-token"]; ok {
		b, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil || token == "" {
			return s3.InvalidArgument("The continuation token provided is incorrect")
		}
		in.After = string(b)
	} else if sa := q.q.Get("start-after"); sa != "" {
		in.After = sa
	}
	res, err := h.svc.ListObjects(q.ctx(), q.bucket, in)
	if err != nil {
		return err
	}
	count := len(res.Objects) + len(res.CommonPrefixes)
	out := listBucketResult{Xmlns: xmlns, Name: q.bucket, Prefix: encodeKey(in.Prefix, enc), MaxKeys: max,
		Delimiter: encodeKey(in.Delimiter, enc), EncodingType: enc, IsTruncated: res.Truncated, KeyCount: &count,
		ContinuationToken: token, StartAfter: encodeKey(q.q.Get("start-after"), enc)}
	if res.Truncated {
		out.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(res.Next))
	}
	var own *owner
	if q.q.Get("fetch-owner") == "true" {
		o := h.owner(q)
		own = &o
	}
	for _, v := range res.Objects {
		out.Contents = append(out.Contents, listed(v, enc, own))
	}
	for _, p := range res.CommonPrefixes {
		out.CommonPrefixes = append(out.CommonPrefixes, commonPrefix{Prefix: encodeKey(p, enc)})
	}
	writeXML(q.w, out)
	return nil
}

func (h *Handler) listObjectVersions(q *request) error {
	max, err := maxKeys(q, "max-keys")
	if err != nil {
		return err
	}
	enc, err := encodingType(q)
	if err != nil {
		return err
	}
	in := buckets.ListInput{Prefix: q.q.Get("prefix"), Delimiter: q.q.Get("delimiter"), After: q.q.Get("key-marker"),
		VersionAfter: q.q.Get("version-id-marker"), MaxKeys: max}
	if in.VersionAfter != "" && in.After == "" {
		return s3.InvalidArgument("A version-id marker cannot be specified without a key marker.")
	}
	res, err := h.svc.ListVersions(q.ctx(), q.bucket, in)
	if err != nil {
		return err
	}
	out := listVersionsResult{Xmlns: xmlns, Name: q.bucket, Prefix: encodeKey(in.Prefix, enc), KeyMarker: encodeKey(in.After, enc),
		VersionIDMarker: in.VersionAfter, MaxKeys: max, Delimiter: encodeKey(in.Delimiter, enc), EncodingType: enc,
		IsTruncated: res.Truncated}
	if res.Truncated {
		out.NextKeyMarker, out.NextVersionIDMarker = encodeKey(res.Next, enc), res.NextVersion
	}
	own := h.owner(q)
	for i, v := range res.Objects {
		ov := objectVersion{Key: encodeKey(v.Key, enc), VersionID: v.VersionID, IsLatest: res.Latest[i],
			LastModified: xmlTime(v.LastModified), Owner: own}
		if v.DeleteMarker {
			ov.XMLName.Local = "DeleteMarker"
		} else {
			size := v.Size
			ov.XMLName.Local, ov.ETag, ov.Size, ov.StorageClass = "Version", v.ETag, &size, "STANDARD"
			ov.ChecksumAlgorithm, ov.ChecksumType = string(v.ChecksumAlgorithm), v.ChecksumType
		}
		out.Versions = append(out.Versions, ov)
	}
	for _, p := range res.CommonPrefixes {
		out.CommonPrefixes = append(out.CommonPrefixes, commonPrefix{Prefix: encodeKey(p, enc)})
	}
	writeXML(q.w, out)
	return nil
}

func (h *Handler) getObjectTagging(q *request) error {
	v, err := h.svc.GetObject(q.ctx(), q.bucket, q.key, q.q.Get("versionId"))
	if err != nil {
		return err
	}
	out := tagging{Xmlns: xmlns, TagSet: []tag{}}
	for _, t := range v.Meta.Tags {
		out.TagSet = append(out.TagSet, tag{Key: t.Key, Value: t.Value})
	}
	if v.VersionID != buckets.NullVersion {
		q.w.Header().Set("x-amz-version-id", v.VersionID)
	}
	writeXML(q.w, out)
	return nil
}

func (h *Handler) putObjectTagging(q *request) error {
	var in tagging
	if err := readXML(q, &in); err != nil {
		return err
	}
	if err := checkTags(in.TagSet, 10); err != nil {
		return err
	}
	tags := make([]buckets.Tag, len(in.TagSet))
	for i, t := range in.TagSet {
		tags[i] = buckets.Tag{Key: t.Key, Value: t.Value}
	}
	return h.setObjectTags(q, tags, http.StatusOK)
}

func (h *Handler) deleteObjectTagging(q *request) error {
	return h.setObjectTags(q, nil, http.StatusNoContent)
}

func (h *Handler) setObjectTags(q *request, tags []buckets.Tag, status int) error {
	v, err := h.svc.SetTags(q.ctx(), q.bucket, q.key, q.q.Get("versionId"), tags)
	if err != nil {
		return err
	}
	if v.VersionID != buckets.NullVersion {
		q.w.Header().Set("x-amz-version-id", v.VersionID)
	}
	q.w.WriteHeader(status)
	return nil
}
