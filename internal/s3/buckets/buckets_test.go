package buckets

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/blobstore"
	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/s3"
	"github.com/sluice-dev/sluice/internal/store/bolt"
	"github.com/sluice-dev/sluice/internal/store/storetest"
)

// fixture is a Service on a real bbolt file, every Update closure run twice, a real blob directory and a clock the
// test moves.
type fixture struct {
	t     *testing.T
	svc   *Service
	blobs *blobstore.Store
	now   time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	db, err := bolt.Open(filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	blobs, err := blobstore.Open(filepath.Join(dir, "s3"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, blobs: blobs, now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	f.svc = New(Options{Store: storetest.RerunUpdates(db), Blobs: blobstore.Single{Store: blobs}, Region: "us-east-1", MaxObjectSize: 64 << 20,
		UploadExpiry: 24 * time.Hour, Now: func() time.Time { return f.now }})
	return f
}

var ctx = context.Background()

func (f *fixture) bucket(name string) {
	f.t.Helper()
	if err := f.svc.CreateBucket(ctx, name, ""); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) put(bucket, key, body string) Version {
	f.t.Helper()
	v, err := f.svc.PutObject(ctx, bucket, key, ObjectMeta{}, Digests{}, PutConditions{}, strings.NewReader(body), int64(len(body)))
	if err != nil {
		f.t.Fatalf("put %s: %v", key, err)
	}
	f.now = f.now.Add(time.Second)
	return v
}

func (f *fixture) read(bucket, key, version string) (string, error) {
	f.t.Helper()
	v, err := f.svc.GetObject(ctx, bucket, key, version)
	if err != nil {
		return "", err
	}
	r, err := f.svc.OpenBlob(ctx, v)
	if err != nil {
		f.t.Fatal(err)
	}
	defer r.Close()
	b, _ := io.ReadAll(r)
	return string(b), nil
}

func faultCode(err error) string {
	if f, ok := fault.As(err); ok {
		return f.Code
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func TestBuckets(t *testing.T) {
	f := newFixture(t)
	f.bucket("one")
	if err := f.svc.CreateBucket(ctx, "one", ""); err != nil {
		t.Errorf("CreateBucket again in us-east-1: %v, want success as AWS answers", err)
	}
	if err := f.svc.CreateBucket(ctx, "Bad", ""); faultCode(err) != s3.CodeInvalidBucketName {
		t.Errorf("bad name: %v", err)
	}
	f.put("one", "k", "v")
	if err := f.svc.DeleteBucket(ctx, "one"); faultCode(err) != s3.CodeBucketNotEmpty {
		t.Errorf("DeleteBucket of a bucket with an object: %v", err)
	}
	if _, err := f.svc.DeleteObject(ctx, "one", "k", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CreateUpload(ctx, "one", "mp", ObjectMeta{}, "", ""); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DeleteBucket(ctx, "one"); err != nil {
		t.Fatalf("DeleteBucket of an empty bucket with an upload in progress: %v", err)
	}
	if _, err := f.svc.GetBucket(ctx, "one"); faultCode(err) != s3.CodeNoSuchBucket {
		t.Errorf("GetBucket after delete: %v", err)
	}
	if bs, _ := f.svc.ListBuckets(ctx); len(bs) != 0 {
		t.Errorf("ListBuckets: %v", bs)
	}
}

// TestVersioning: an unversioned bucket overwrites its null version; enabled versioning keeps every version and
// deletes with markers; suspended versioning writes (and replaces) the null version beside the others.
func TestVersioning(t *testing.T) {
	f := newFixture(t)
	f.bucket("bkt")
	f.put("bkt", "k", "1")
	f.put("bkt", "k", "2")
	if got, _ := f.read("bkt", "k", ""); got != "2" {
		t.Errorf("latest %q", got)
	}
	if res, _ := f.svc.ListVersions(ctx, "bkt", ListInput{MaxKeys: 100}); len(res.Objects) != 1 || res.Objects[0].VersionID != NullVersion {
		t.Errorf("unversioned: %+v", res.Objects)
	}
	f.svc.UpdateBucket(ctx, "bkt", func(b *Bucket) error { b.Versioning = VersioningEnabled; return nil })
	v3 := f.put("bkt", "k", "3")
	v4 := f.put("bkt", "k", "4")
	del, err := f.svc.DeleteObject(ctx, "bkt", "k", "")
	if err != nil || !del.DeleteMarker || del.VersionID == "" {
		t.Fatalf("delete: %+v %v", del, err)
	}
	if _, err := f.read("bkt", "k", ""); faultCode(err) != s3.CodeNoSuchKey {
		t.Errorf("read behind a marker: %v", err)
	}
	if _, err := f.read("bkt", "k", del.VersionID); faultCode(err) != s3.CodeMethodNotAllowed {
		t.Errorf("read of the marker: %v", err)
	}
	for v, want := range map[string]string{v3.VersionID: "3", v4.VersionID: "4", NullVersion: "2"} {
		if got, err := f.read("bkt", "k", v); got != want {
			t.Errorf("version %s: %q %v, want %q", v, got, err, want)
		}
	}
	if _, err := f.read("bkt", "k", "garbage"); faultCode(err) != s3.CodeInvalidArgument {
		t.Errorf("malformed version id: %v", err)
	}
	if _, err := f.read("bkt", "k", strings.Repeat("0", 32)); faultCode(err) != s3.CodeNoSuchVersion {
		t.Errorf("unknown version id: %v", err)
	}
	res, _ := f.svc.ListVersions(ctx, "bkt", ListInput{MaxKeys: 100})
	var order []string
	for i, v := range res.Objects {
		order = append(order, v.VersionID)
		if res.Latest[i] != (i == 0) {
			t.Errorf("IsLatest of %d: %v", i, res.Latest[i])
		}
	}
	if want := []string{del.VersionID, v4.VersionID, v3.VersionID, NullVersion}; strings.Join(order, ",") != strings.Join(want, ",") {
		t.Errorf("versions newest first: %v, want %v", order, want)
	}
	// Removing the marker brings the newest version back; removing that, the one before.
	f.svc.DeleteObject(ctx, "bkt", "k", del.VersionID)
	f.svc.DeleteObject(ctx, "bkt", "k", v4.VersionID)
	if got, _ := f.read("bkt", "k", ""); got != "3" {
		t.Errorf("latest after removing the marker and v4: %q", got)
	}
	f.svc.UpdateBucket(ctx, "bkt", func(b *Bucket) error { b.Versioning = VersioningSuspended; return nil })
	f.put("bkt", "k", "5")
	f.put("bkt", "k", "6") // replaces the null version "5", which replaced "2"
	res, _ = f.svc.ListVersions(ctx, "bkt", ListInput{MaxKeys: 100})
	if len(res.Objects) != 2 || res.Objects[0].VersionID != NullVersion || res.Objects[1].VersionID != v3.VersionID {
		t.Errorf("suspended: %+v", res.Objects)
	}
	// Paging through versions one at a time gives the same order.
	var paged []string
	in := ListInput{MaxKeys: 1}
	for {
		page, err := f.svc.ListVersions(ctx, "bkt", in)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range page.Objects {
			paged = append(paged, v.VersionID)
		}
		if !page.Truncated {
			break
		}
		in.After, in.VersionAfter = page.Next, page.NextVersion
	}
	if strings.Join(paged, ",") != NullVersion+","+v3.VersionID {
		t.Errorf("paged versions: %v", paged)
	}
}

func TestListObjects(t *testing.T) {
	f := newFixture(t)
	f.bucket("bkt")
	for _, k := range []string{"a", "a/1", "a/2", "a/b/3", "b/1", "c", "c/d/e", "z"} {
		f.put("bkt", k, k)
	}
	f.svc.UpdateBucket(ctx, "bkt", func(b *Bucket) error { b.Versioning = VersioningEnabled; return nil })
	f.svc.DeleteObject(ctx, "bkt", "z", "") // a delete marker: not listed
	for _, tc := range []struct {
		name     string
		in       ListInput
		want     string // keys, then "|" and prefixes
		truncate bool
	}{
		{"all", ListInput{MaxKeys: 100}, "a,a/1,a/2,a/b/3,b/1,c,c/d/e|", false},
		{"delimiter", ListInput{Delimiter: "/", MaxKeys: 100}, "a,c|a/,b/,c/", false},
		{"prefix and delimiter", ListInput{Prefix: "a/", Delimiter: "/", MaxKeys: 100}, "a/1,a/2|a/b/", false},
		{"after a key", ListInput{After: "a/2", MaxKeys: 100}, "a/b/3,b/1,c,c/d/e|", false},
		{"after a common prefix", ListInput{Delimiter: "/", After: "a/", MaxKeys: 100}, "c|b/,c/", false},
		{"a page", ListInput{Delimiter: "/", MaxKeys: 3}, "a|a/,b/", true},
		{"zero keys", ListInput{MaxKeys: 0}, "|", false},
		{"prefix before after", ListInput{Prefix: "c", After: "a", MaxKeys: 100}, "c,c/d/e|", false},
	} {
		res, err := f.svc.ListObjects(ctx, "bkt", tc.in)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, v := range res.Objects {
			keys = append(keys, v.Key)
		}
		if got := strings.Join(keys, ",") + "|" + strings.Join(res.CommonPrefixes, ","); got != tc.want || res.Truncated != tc.truncate {
			t.Errorf("%s: %s truncated=%v, want %s truncated=%v", tc.name, got, res.Truncated, tc.want, tc.truncate)
		}
	}
	// Pages of two with a delimiter cover everything exactly once.
	var all []string
	in := ListInput{Delimiter: "/", MaxKeys: 2}
	for {
		res, _ := f.svc.ListObjects(ctx, "bkt", in)
		var page []string
		for _, v := range res.Objects {
			page = append(page, v.Key)
		}
		page = append(page, res.CommonPrefixes...)
		slices.Sort(page) // a page holds its keys and its prefixes apart; in key order they interleave
		all = append(all, page...)
		if !res.Truncated {
			break
		}
		in.After = res.Next
	}
	if strings.Join(all, ",") != "a,a/,b/,c,c/" {
		t.Errorf("pages: %v", all)
	}
}

func TestDigests(t *testing.T) {
	f := newFixture(t)
	f.bucket("bkt")
	body := "checked"
	sum := md5.Sum([]byte(body))
	good := base64.StdEncoding.EncodeToString(sum[:])
	crc := s3.CRC32.New()
	crc.Write([]byte(body))
	for _, tc := range []struct {
		name string
		d    Digests
		code string
	}{
		{"Content-MD5", Digests{ContentMD5: good}, ""},
		{"Content-MD5 wrong", Digests{ContentMD5: base64.StdEncoding.EncodeToString(make([]byte, 16))}, s3.CodeBadDigest},
		{"Content-MD5 malformed", Digests{ContentMD5: "zz"}, s3.CodeInvalidDigest},
		{"CRC32", Digests{Algorithm: s3.CRC32, Value: s3.Encode(crc.Sum(nil))}, ""},
		{"CRC32 wrong", Digests{Algorithm: s3.CRC32, Value: "AAAAAA=="}, s3.CodeBadDigest},
		{"CRC32 malformed", Digests{Algorithm: s3.CRC32, Value: "AAAA"}, s3.CodeInvalidRequest},
		{"CRC32 in a trailer", Digests{Algorithm: s3.CRC32, Trailer: func() string { return s3.Encode(crc.Sum(nil)) }}, ""},
		{"CRC32 in a trailer, wrong", Digests{Algorithm: s3.CRC32, Trailer: func() string { return "AAAAAA==" }}, s3.CodeBadDigest},
	} {
		key := strings.ReplaceAll(tc.name, " ", "-")
		v, err := f.svc.PutObject(ctx, "bkt", key, ObjectMeta{}, tc.d, PutConditions{}, strings.NewReader(body), int64(len(body)))
		if faultCode(err) != tc.code {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.code)
			continue
		}
		_, rerr := f.svc.GetObject(ctx, "bkt", key, "")
		if tc.code != "" && faultCode(rerr) != s3.CodeNoSuchKey {
			t.Errorf("%s: a refused body is visible: %v", tc.name, rerr)
		}
		if tc.code == "" && (v.ETag != `"`+hex.EncodeToString(sum[:])+`"` || v.Checksum == "") {
			t.Errorf("%s: ETag %s checksum %q", tc.name, v.ETag, v.Checksum)
		}
	}
	// No checksum named: S3 computes CRC64NVME.
	v := f.put("bkt", "plain", body)
	h := s3.CRC64NVME.New()
	h.Write([]byte(body))
	if v.ChecksumAlgorithm != s3.CRC64NVME || v.Checksum != s3.Encode(h.Sum(nil)) {
		t.Errorf("default checksum %s %s", v.ChecksumAlgorithm, v.Checksum)
	}
	// Too large, declared or streamed.
	if _, err := f.svc.PutObject(ctx, "bkt", "big", ObjectMeta{}, Digests{}, PutConditions{}, strings.NewReader("x"), 65<<20); faultCode(err) != s3.CodeEntityTooLarge {
		t.Errorf("declared too large: %v", err)
	}
	if _, err := f.svc.PutObject(ctx, "bkt", "big", ObjectMeta{}, Digests{}, PutConditions{}, io.LimitReader(zeros{}, 65<<20), -1); faultCode(err) != s3.CodeEntityTooLarge {
		t.Errorf("streamed too large: %v", err)
	}
}

type zeros struct{}

func (zeros) Read(b []byte) (int, error) { clear(b); return len(b), nil }

func TestMultipart(t *testing.T) {
	f := newFixture(t)
	f.bucket("bkt")
	u, err := f.svc.CreateUpload(ctx, "bkt", "obj", ObjectMeta{ContentType: "text/plain"}, s3.SHA256, "")
	if err != nil {
		t.Fatal(err)
	}
	if u.ChecksumType != s3.Composite {
		t.Errorf("SHA256 defaults to %s", u.ChecksumType)
	}
	p1body := strings.Repeat("a", s3.MinPartSize)
	p1, err := f.svc.UploadPart(ctx, "bkt", "obj", u.UploadID, 1, Digests{}, strings.NewReader(p1body), int64(len(p1body)))
	if err != nil {
		t.Fatal(err)
	}
	p2, err := f.svc.UploadPart(ctx, "bkt", "obj", u.UploadID, 2, Digests{}, strings.NewReader("tail"), 4)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.UploadPart(ctx, "bkt", "obj", "nope", 1, Digests{}, strings.NewReader("x"), 1); faultCode(err) != s3.CodeNoSuchUpload {
		t.Errorf("part of an unknown upload: %v", err)
	}
	if _, err := f.svc.UploadPart(ctx, "bkt", "obj", u.UploadID, 10001, Digests{}, strings.NewReader("x"), 1); faultCode(err) != s3.CodeInvalidArgument {
		t.Errorf("part 10001: %v", err)
	}
	_, parts, _, err := f.svc.ListParts(ctx, "bkt", "obj", u.UploadID, 0, 1000)
	if err != nil || len(parts) != 2 {
		t.Fatalf("ListParts: %v %v", parts, err)
	}
	ups, _, _, _ := f.svc.ListUploads(ctx, "bkt", ListInput{MaxKeys: 10})
	if len(ups) != 1 {
		t.Errorf("ListUploads: %v", ups)
	}
	v, err := f.svc.CompleteUpload(ctx, "bkt", "obj", u.UploadID, CompleteInput{Parts: []s3.CompletedPart{{PartNumber: 1, ETag: p1.ETag}, {PartNumber: 2, ETag: p2.ETag}}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(v.ETag, `-2"`) || v.Size != int64(len(p1body))+4 || v.ChecksumType != s3.Composite ||
		v.Checksum != s3.CompositeChecksum(s3.SHA256, []string{p1.Checksum, p2.Checksum}) || len(v.PartSizes) != 2 {
		t.Errorf("completed: %+v", v)
	}
	if got, _ := f.read("bkt", "obj", ""); got != p1body+"tail" {
		t.Errorf("assembled object of %d bytes", len(got))
	}
	if _, err := f.svc.CompleteUpload(ctx, "bkt", "obj", u.UploadID, CompleteInput{Parts: []s3.CompletedPart{{PartNumber: 1, ETag: p1.ETag}}}); faultCode(err) != s3.CodeNoSuchUpload {
		t.Errorf("complete twice: %v", err)
	}
	if _, parts, _, err := f.svc.ListParts(ctx, "bkt", "obj", u.UploadID, 0, 1000); faultCode(err) != s3.CodeNoSuchUpload || len(parts) != 0 {
		t.Errorf("parts after completion: %v %v", parts, err)
	}
}

// TestJanitor: a stale upload is aborted and its parts dropped; then the blobs no record names are swept, and
// those of live objects kept.
func TestJanitor(t *testing.T) {
	f := newFixture(t)
	f.bucket("bkt")
	keep := f.put("bkt", "keep", "kept bytes")
	gone := f.put("bkt", "gone", "deleted bytes")
	f.svc.DeleteObject(ctx, "bkt", "gone", "")
	u, _ := f.svc.CreateUpload(ctx, "bkt", "stale", ObjectMeta{}, "", "")
	part, err := f.svc.UploadPart(ctx, "bkt", "stale", u.UploadID, 1, Digests{}, strings.NewReader("part bytes"), 10)
	if err != nil {
		t.Fatal(err)
	}
	fresh, _ := f.svc.CreateUpload(ctx, "bkt", "fresh", ObjectMeta{}, "", "")
	f.now = f.now.Add(23 * time.Hour)
	if _, err := f.svc.CreateUpload(ctx, "bkt", "newer", ObjectMeta{}, "", ""); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(2 * time.Hour)
	n, err := f.svc.AbortStaleUploads(ctx)
	if err != nil || n != 2 {
		t.Fatalf("AbortStaleUploads: %d %v, want the two uploads older than a day", n, err)
	}
	if _, _, _, err := f.svc.ListParts(ctx, "bkt", "stale", u.UploadID, 0, 10); faultCode(err) != s3.CodeNoSuchUpload {
		t.Errorf("stale upload still there: %v", err)
	}
	if _, _, _, err := f.svc.ListParts(ctx, "bkt", "fresh", fresh.UploadID, 0, 10); faultCode(err) != s3.CodeNoSuchUpload {
		t.Errorf("fresh upload (25 h old) still there: %v", err)
	}
	live, err := f.svc.LiveBlobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !live[keep.Blob] || live[gone.Blob] || live[part.Blob] {
		t.Errorf("live blobs: keep %v gone %v part %v", live[keep.Blob], live[gone.Blob], live[part.Blob])
	}
}
