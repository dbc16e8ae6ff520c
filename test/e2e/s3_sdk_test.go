package e2e

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/sluice-dev/sluice/internal/sdkhttp"
)

// S3 returns an aws-sdk-go-v2 S3 client. Virtual-hosted addressing names <bucket>.s3.us-east-1.localhost: the
// client dials the server's own address whatever the host, as a resolver that maps *.localhost to loopback does.
func (s *server) S3(virtual bool, optFns ...func(*s3.Options)) *s3.Client {
	u, _ := url.Parse(s.URL)
	endpoint := s.URL
	if virtual {
		endpoint = "http://s3." + region + ".localhost:" + u.Port()
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	transport := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return dialer.DialContext(ctx, network, u.Host)
	}}
	cfg := aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKeyID, s.SecretAccessKey, ""),
		BaseEndpoint: aws.String(endpoint),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
		HTTPClient:   sdkhttp.Wrap(&http.Client{Transport: transport}),
	}
	return s3.NewFromConfig(cfg, append([]func(*s3.Options){func(o *s3.Options) { o.UsePathStyle = !virtual }}, optFns...)...)
}

func checkS3Error(t *testing.T, what string, err error, status int, code string) {
	t.Helper()
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Errorf("%s: %v, want %d %s", what, err, status, code)
		return
	}
	got := 0
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		got = re.HTTPStatusCode()
	}
	if apiErr.ErrorCode() != code || got != status {
		t.Errorf("%s: %d %s (%s), want %d %s", what, got, apiErr.ErrorCode(), apiErr.ErrorMessage(), status, code)
	}
}

// TestS3GoSDK drives S3 with aws-sdk-go-v2 in both addressing styles: its default flexible checksums, the upload
// manager's multipart uploads from a stream, conditional and ranged reads, listings, copies and versions.
func TestS3GoSDK(t *testing.T) {
	parallel(t)
	srv := startServer(t)
	ctx := t.Context()
	for _, virtual := range []bool{false, true} {
		name := map[bool]string{false: "path-style", true: "virtual-hosted"}[virtual]
		t.Run(name, func(t *testing.T) {
			c := srv.S3(virtual)
			bucket := "go-" + strings.ReplaceAll(name, "-style", "")
			if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
				t.Fatal(err)
			}
			body := bytes.Repeat([]byte("sluice "), 1000)
			put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("a/b/c.txt"), Body: bytes.NewReader(body),
				ContentType: aws.String("text/plain"), Metadata: map[string]string{"origin": "go"}, Tagging: aws.String("env=test&team=blue")})
			if err != nil {
				t.Fatal(err)
			}
			sum := md5.Sum(body)
			if aws.ToString(put.ETag) != `"`+hex.EncodeToString(sum[:])+`"` {
				t.Errorf("ETag %s", aws.ToString(put.ETag))
			}
			// The SDK sends a CRC32 of the body, or none (then S3 computes a CRC64NVME): either comes back.
			wantCRC := aws.ToString(put.ChecksumCRC32) + aws.ToString(put.ChecksumCRC64NVME)
			if wantCRC == "" {
				t.Errorf("PutObject answered no checksum")
			}
			got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("a/b/c.txt"), ChecksumMode: s3types.ChecksumModeEnabled})
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(got.Body) // the SDK checks the body against the checksum header as it reads
			got.Body.Close()
			if err != nil || !bytes.Equal(b, body) {
				t.Fatalf("GetObject: %v, %d bytes", err, len(b))
			}
			if aws.ToString(got.ChecksumCRC32)+aws.ToString(got.ChecksumCRC64NVME) != wantCRC || aws.ToString(got.ContentType) != "text/plain" ||
				got.Metadata["origin"] != "go" || aws.ToInt32(got.TagCount) != 2 {
				t.Errorf("GetObject: checksum %s%s (want %s), type %s, metadata %v, tags %d", aws.ToString(got.ChecksumCRC32), aws.ToString(got.ChecksumCRC64NVME), wantCRC,
					aws.ToString(got.ContentType), got.Metadata, aws.ToInt32(got.TagCount))
			}

			// Object tags: set on the write, replaced, read, removed.
			tags, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String("a/b/c.txt")})
			if err != nil || len(tags.TagSet) != 2 || aws.ToString(tags.TagSet[0].Key) != "env" {
				t.Fatalf("GetObjectTagging: %+v %v", tags, err)
			}
			if _, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String("a/b/c.txt"),
				Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String("stage"), Value: aws.String("prod")}}}}); err != nil {
				t.Fatal(err)
			}
			if tags, err = c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String("a/b/c.txt")}); err != nil ||
				len(tags.TagSet) != 1 || aws.ToString(tags.TagSet[0].Value) != "prod" {
				t.Errorf("tags after PutObjectTagging: %+v %v", tags, err)
			}
			_, err = c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String("a/b/c.txt"),
				Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String("k"), Value: aws.String("1")}, {Key: aws.String("k"), Value: aws.String("2")}}}})
			checkS3Error(t, "duplicate tag keys", err, 400, "InvalidTag")
			if _, err := c.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String("a/b/c.txt")}); err != nil {
				t.Fatal(err)
			}
			if tags, _ = c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String("a/b/c.txt")}); len(tags.TagSet) != 0 {
				t.Errorf("tags after DeleteObjectTagging: %+v", tags.TagSet)
			}

			// A range, and the conditional reads.
			rng, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("a/b/c.txt"), Range: aws.String("bytes=7-13")})
			if err != nil {
				t.Fatal(err)
			}
			part, _ := io.ReadAll(rng.Body)
			rng.Body.Close()
			if string(part) != "sluice " || aws.ToString(rng.ContentRange) != "bytes 7-13/7000" {
				t.Errorf("range: %q, %s", part, aws.ToString(rng.ContentRange))
			}
			_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("a/b/c.txt"), Range: aws.String("bytes=9000-")})
			checkS3Error(t, "range past the end", err, 416, "InvalidRange")
			_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("a/b/c.txt"), IfMatch: aws.String(`"nope"`)})
			checkS3Error(t, "If-Match another ETag", err, 412, "PreconditionFailed")
			_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("a/b/c.txt"), IfNoneMatch: put.ETag})
			checkS3Error(t, "If-None-Match the ETag", err, 304, "NotModified")
			_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("a/b/c.txt"), IfModifiedSince: aws.Time(time.Now().Add(time.Hour))})
			checkS3Error(t, "If-Modified-Since the future", err, 304, "NotModified")
			_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("a/b/c.txt"), Body: bytes.NewReader(body), IfNoneMatch: aws.String("*")})
			checkS3Error(t, "conditional create of an existing key", err, 412, "PreconditionFailed")

			// The upload manager streams a reader of unknown length in parts.
			big := bytes.Repeat([]byte("0123456789abcdef"), 12<<16) // 12 MiB
			up := manager.NewUploader(c, func(u *manager.Uploader) { u.PartSize = 5 << 20 })
			res, err := up.Upload(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("big/stream.bin"), Body: io.MultiReader(bytes.NewReader(big))})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(aws.ToString(res.ETag), `-3"`) {
				t.Errorf("multipart ETag %s, want 3 parts", aws.ToString(res.ETag))
			}
			dl := manager.NewDownloader(c, func(d *manager.Downloader) { d.PartSize = 5 << 20 })
			buf := manager.NewWriteAtBuffer(nil)
			if n, err := dl.Download(ctx, buf, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("big/stream.bin")}); err != nil || n != int64(len(big)) || !bytes.Equal(buf.Bytes(), big) {
				t.Fatalf("download: %d bytes, %v", n, err)
			}
			p2, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("big/stream.bin"), PartNumber: aws.Int32(2)})
			if err != nil {
				t.Fatal(err)
			}
			second, _ := io.ReadAll(p2.Body)
			p2.Body.Close()
			if !bytes.Equal(second, big[5<<20:10<<20]) || aws.ToInt32(p2.PartsCount) != 3 {
				t.Errorf("part 2: %d bytes, %d parts", len(second), aws.ToInt32(p2.PartsCount))
			}

			// Listings: delimiter, pages, url encoding.
			for _, k := range []string{"a/x.txt", "a/y.txt", "b/z.txt", "caf\u00e9 menu.txt", "top.txt"} {
				if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
					t.Fatal(err)
				}
			}
			var keys, prefixes []string
			pages := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Delimiter: aws.String("/"), MaxKeys: aws.Int32(2)})
			for pages.HasMorePages() {
				page, err := pages.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range page.Contents {
					keys = append(keys, aws.ToString(o.Key))
				}
				for _, p := range page.CommonPrefixes {
					prefixes = append(prefixes, aws.ToString(p.Prefix))
				}
			}
			if strings.Join(prefixes, ",") != "a/,b/,big/" || strings.Join(keys, ",") != "café menu.txt,top.txt" {
				t.Errorf("listing: prefixes %v, keys %v", prefixes, keys)
			}
			v1, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(bucket), Prefix: aws.String("a/"), Marker: aws.String("a/x.txt")})
			if err != nil {
				t.Fatal(err)
			}
			if len(v1.Contents) != 1 || aws.ToString(v1.Contents[0].Key) != "a/y.txt" {
				t.Errorf("ListObjects after a/x.txt: %+v", v1.Contents)
			}

			// Copy with a version source, then versions.
			if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
				VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
				t.Fatal(err)
			}
			first, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("v.txt"), Body: strings.NewReader("one")})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("v.txt"), Body: strings.NewReader("two")}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(bucket), Key: aws.String("v-copy.txt"),
				CopySource: aws.String(bucket + "/v.txt?versionId=" + aws.ToString(first.VersionId))}); err != nil {
				t.Fatal(err)
			}
			cp, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("v-copy.txt")})
			if err != nil {
				t.Fatal(err)
			}
			cb, _ := io.ReadAll(cp.Body)
			cp.Body.Close()
			if string(cb) != "one" {
				t.Errorf("copy of the first version: %q", cb)
			}
			_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(bucket), Key: aws.String("v-copy2.txt"),
				CopySource: aws.String(bucket + "/v.txt"), CopySourceIfNoneMatch: aws.String("*")})
			checkS3Error(t, "conditional copy", err, 412, "PreconditionFailed")
		})
	}
}

// ---- raw requests: payload modes and tampering ----

// rawS3 is a PUT of body to path signed by the Go SDK's signer with payload hash mode; prepare may change the request
// (and the body) after signing, as an attacker on the wire would.
func rawS3Put(t *testing.T, s *server, path string, hdr map[string]string, mode string, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, s.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	req.Header.Set("X-Amz-Content-Sha256", mode)
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err := signer.SignHTTP(t.Context(), s.creds(), req, mode, "s3", region, time.Now()); err != nil {
		t.Fatal(err)
	}
	return req
}

// chunked encodes payload as aws-chunked pieces signed by the SDK's stream signer (seeded with the request's
// signature), or unsigned; trailer lines follow the last chunk.
func chunked(t *testing.T, s *server, req *http.Request, payload []byte, size int, signed bool, trailers ...string) []byte {
	t.Helper()
	auth := req.Header.Get("Authorization")
	seed, _ := hex.DecodeString(auth[strings.LastIndex(auth, "=")+1:])
	stream := v4.NewStreamSigner(s.creds(), "s3", region, seed)
	signTime, _ := time.Parse("20060102T150405Z", req.Header.Get("X-Amz-Date"))
	var out bytes.Buffer
	for off := 0; ; off += size {
		off = min(off, len(payload))
		piece := payload[off:min(off+size, len(payload))]
		if signed {
			sig, err := stream.GetSignature(t.Context(), nil, piece, signTime)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&out, "%x;chunk-signature=%x\r\n", len(piece), sig)
		} else {
			fmt.Fprintf(&out, "%x\r\n", len(piece))
		}
		if len(piece) == 0 {
			break
		}
		out.Write(piece)
		out.WriteString("\r\n")
	}
	for _, tr := range trailers {
		out.WriteString(tr + "\r\n")
	}
	out.WriteString("\r\n")
	return out.Bytes()
}

type s3Error struct {
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

func s3Do(t *testing.T, req *http.Request) (int, s3Error, http.Header) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e s3Error
	_ = xml.Unmarshal(b, &e)
	return resp.StatusCode, e, resp.Header
}

func crc32b64(b []byte) string {
	c := crc32.ChecksumIEEE(b)
	return base64.StdEncoding.EncodeToString([]byte{byte(c >> 24), byte(c >> 16), byte(c >> 8), byte(c)})
}

// TestS3Tampering sends bodies in every payload mode, intact and tampered: a tampered body is refused with S3's
// error and leaves nothing behind (the key stays missing, or keeps its previous bytes).
func TestS3Tampering(t *testing.T) {
	parallel(t)
	srv := startServer(t)
	ctx := t.Context()
	c := srv.S3(false)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("tamper")}); err != nil {
		t.Fatal(err)
	}
	payload := bytes.Repeat([]byte("payload-"), 20000) // 160,000 bytes: three 64 KiB chunks
	sum := sha256.Sum256(payload)
	hexSum := hex.EncodeToString(sum[:])
	chunkHdr := func(extra map[string]string) map[string]string {
		h := map[string]string{"Content-Encoding": "aws-chunked", "X-Amz-Decoded-Content-Length": strconv.Itoa(len(payload))}
		for k, v := range extra {
			h[k] = v
		}
		return h
	}
	for _, tc := range []struct {
		name   string
		build  func(key string) *http.Request
		status int
		code   string
	}{
		{"hex payload hash", func(key string) *http.Request {
			return rawS3Put(t, srv, "/tamper/"+key, nil, hexSum, payload)
		}, 200, ""},
		{"hex payload hash, body changed", func(key string) *http.Request {
			bad := bytes.Clone(payload)
			bad[100] ^= 1
			req := rawS3Put(t, srv, "/tamper/"+key, nil, hexSum, payload)
			req.Body, req.ContentLength = readCloser(bad), int64(len(bad))
			return req
		}, 400, "XAmzContentSHA256Mismatch"},
		{"Content-MD5 wrong", func(key string) *http.Request {
			wrong := md5.Sum([]byte("other"))
			return rawS3Put(t, srv, "/tamper/"+key, map[string]string{"Content-MD5": base64.StdEncoding.EncodeToString(wrong[:])}, hexSum, payload)
		}, 400, "BadDigest"},
		{"signed chunks", func(key string) *http.Request {
			req := rawS3Put(t, srv, "/tamper/"+key, chunkHdr(nil), "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", nil)
			body := chunked(t, srv, req, payload, 64<<10, true)
			req.Body, req.ContentLength = readCloser(body), int64(len(body))
			return req
		}, 200, ""},
		{"signed chunks, a byte changed", func(key string) *http.Request {
			req := rawS3Put(t, srv, "/tamper/"+key, chunkHdr(nil), "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", nil)
			body := chunked(t, srv, req, payload, 64<<10, true)
			body[len(body)/2] ^= 1
			req.Body, req.ContentLength = readCloser(body), int64(len(body))
			return req
		}, 403, "SignatureDoesNotMatch"},
		{"signed chunks with trailer", func(key string) *http.Request {
			req := rawS3Put(t, srv, "/tamper/"+key, chunkHdr(map[string]string{"X-Amz-Trailer": "x-amz-checksum-crc32"}), "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", nil)
			body := chunked(t, srv, req, payload, 64<<10, true, "x-amz-checksum-crc32:"+crc32b64(payload), "x-amz-trailer-signature:"+strings.Repeat("0", 64))
			req.Body, req.ContentLength = readCloser(body), int64(len(body))
			return req
		}, 403, "SignatureDoesNotMatch"}, // the trailer's signature is not the chain's
		{"unsigned chunks, trailing CRC32", func(key string) *http.Request {
			req := rawS3Put(t, srv, "/tamper/"+key, chunkHdr(map[string]string{"X-Amz-Trailer": "x-amz-checksum-crc32"}), "STREAMING-UNSIGNED-PAYLOAD-TRAILER", nil)
			body := chunked(t, srv, req, payload, 64<<10, false, "x-amz-checksum-crc32:"+crc32b64(payload))
			req.Body, req.ContentLength = readCloser(body), int64(len(body))
			return req
		}, 200, ""},
		{"unsigned chunks, a byte changed under the trailing CRC32", func(key string) *http.Request {
			req := rawS3Put(t, srv, "/tamper/"+key, chunkHdr(map[string]string{"X-Amz-Trailer": "x-amz-checksum-crc32"}), "STREAMING-UNSIGNED-PAYLOAD-TRAILER", nil)
			bad := bytes.Clone(payload)
			bad[5] ^= 1
			body := chunked(t, srv, req, bad, 64<<10, false, "x-amz-checksum-crc32:"+crc32b64(payload))
			req.Body, req.ContentLength = readCloser(body), int64(len(body))
			return req
		}, 400, "BadDigest"},
		{"unsigned chunks, a trailer not announced", func(key string) *http.Request {
			req := rawS3Put(t, srv, "/tamper/"+key, chunkHdr(map[string]string{"X-Amz-Trailer": "x-amz-checksum-crc32"}), "STREAMING-UNSIGNED-PAYLOAD-TRAILER", nil)
			body := chunked(t, srv, req, payload, 64<<10, false, "x-amz-checksum-sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
			req.Body, req.ContentLength = readCloser(body), int64(len(body))
			return req
		}, 400, "IncompleteBody"},
		{"UNSIGNED-PAYLOAD with a header CRC32 that does not match", func(key string) *http.Request {
			return rawS3Put(t, srv, "/tamper/"+key, map[string]string{"X-Amz-Checksum-Crc32": crc32b64([]byte("x"))}, "UNSIGNED-PAYLOAD", payload)
		}, 400, "BadDigest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := strings.ReplaceAll(tc.name, " ", "_")
			status, e, _ := s3Do(t, tc.build(url.PathEscape(key)))
			if status != tc.status || e.Code != tc.code {
				t.Fatalf("%d %s (%s), want %d %s", status, e.Code, e.Message, tc.status, tc.code)
			}
			obj, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("tamper"), Key: aws.String(key)})
			if tc.status != 200 {
				checkS3Error(t, "the refused object", err, 404, "NoSuchKey")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(obj.Body)
			obj.Body.Close()
			if !bytes.Equal(got, payload) {
				t.Errorf("stored %d bytes, want the %d sent", len(got), len(payload))
			}
		})
	}
}

// TestS3Hostile: keys that look like paths, names S3 refuses, bodies too large or malformed, presigned URLs
// expired or altered, anonymous callers.
func TestS3Hostile(t *testing.T) {
	parallel(t)
	srv := startServer(t)
	ctx := t.Context()
	c := srv.S3(false)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("hostile")}); err != nil {
		t.Fatal(err)
	}
	// Path tricks are keys like any other: stored and read back under exactly their name.
	tricky := []string{"../escape", "a//b", "a/./b", "a/../b", "%2F", "dir/%2e%2e/x", "/leading", "trailing/", strings.Repeat("k", 1024)}
	for _, k := range tricky {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("hostile"), Key: aws.String(k), Body: strings.NewReader("v:" + k)}); err != nil {
			t.Fatalf("PutObject %q: %v", k, err)
		}
	}
	for _, k := range tricky {
		o, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("hostile"), Key: aws.String(k)})
		if err != nil {
			t.Fatalf("GetObject %q: %v", k, err)
		}
		b, _ := io.ReadAll(o.Body)
		o.Body.Close()
		if string(b) != "v:"+k {
			t.Errorf("GetObject %q read %q", k, b)
		}
	}
	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("hostile")})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Contents) != len(tricky) {
		t.Errorf("listed %d keys, want %d", len(list.Contents), len(tricky))
	}
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("hostile"), Key: aws.String(strings.Repeat("k", 1025)), Body: strings.NewReader("x")})
	checkS3Error(t, "a key of 1025 bytes", err, 400, "KeyTooLongError")
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("hostile"), Key: aws.String("nul\x00byte"), Body: strings.NewReader("x")})
	checkS3Error(t, "a key with NUL", err, 400, "InvalidArgument")
	for _, name := range []string{"ab", strings.Repeat("a", 64), "UPPER", "under_score", "-dash", "dots..dots", "192.168.0.1", "xn--punycode", "ends-s3alias"} {
		_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
		checkS3Error(t, "bucket "+name, err, 400, "InvalidBucketName")
	}

	// Malformed and oversized XML.
	put := func(path string, body []byte) (int, s3Error) {
		sum := sha256.Sum256(body)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+path, bytes.NewReader(body))
		req.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
		if err := v4.NewSigner().SignHTTP(ctx, srv.creds(), req, hex.EncodeToString(sum[:]), "s3", region, time.Now()); err != nil {
			t.Fatal(err)
		}
		st, e, _ := s3Do(t, req)
		return st, e
	}
	if st, e := put("/hostile?delete", []byte("<Delete><Object><Key>x</Key></Object")); st != 400 || e.Code != "MalformedXML" {
		t.Errorf("truncated XML: %d %s", st, e.Code)
	}
	huge := append([]byte("<Delete>"), bytes.Repeat([]byte("<Object><Key>k</Key></Object>"), 400_000)...)
	if st, e := put("/hostile?delete", append(huge, "</Delete>"...)); st != 400 || e.Code != "MaxMessageLengthExceeded" {
		t.Errorf("a 11 MB DeleteObjects body: %d %s", st, e.Code)
	}
	if st, e := put("/hostile?delete", []byte("<Delete>"+strings.Repeat("<Object><Key>k</Key></Object>", 1001)+"</Delete>")); st != 400 || e.Code != "MalformedXML" {
		t.Errorf("1001 keys: %d %s", st, e.Code)
	}

	// Presigned URLs: expired, altered, and one signed an hour ago that is still good.
	pc := s3.NewPresignClient(c)
	key := aws.String("trailing/")
	// Signed an hour ago for a minute, by the SDK's signer.
	staleReq, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/hostile/trailing/?X-Amz-Expires=60", nil)
	staleURL, _, err := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }).PresignHTTP(ctx, srv.creds(), staleReq,
		"UNSIGNED-PAYLOAD", "s3", region, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	stale := struct{ URL string }{staleURL}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, stale.URL, nil)
	if st, e, _ := s3Do(t, req); st != 403 || e.Code != "AccessDenied" || e.Message != "Request has expired" {
		t.Errorf("expired presigned URL: %d %s %q", st, e.Code, e.Message)
	}
	fresh, err := pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("hostile"), Key: key}, s3.WithPresignExpires(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, strings.Replace(fresh.URL, "trailing", "trailinG", 1), nil)
	if st, e, _ := s3Do(t, req); st != 403 || e.Code != "SignatureDoesNotMatch" {
		t.Errorf("altered presigned URL: %d %s", st, e.Code)
	}
	putURL, err := pc.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("hostile"), Key: aws.String("shared/upload.txt")})
	if err != nil {
		t.Fatal(err)
	}
	req, _ = http.NewRequestWithContext(ctx, http.MethodPut, putURL.URL, strings.NewReader("shared"))
	if st, e, _ := s3Do(t, req); st != 200 {
		t.Errorf("presigned PUT: %d %s", st, e.Code)
	}

	// Anonymous callers: refused, unless the bucket policy allows "*".
	anon := func(method, path string, body io.Reader) int {
		req, _ := http.NewRequestWithContext(ctx, method, srv.URL+path, body)
		st, _, _ := s3Do(t, req)
		return st
	}
	if st := anon(http.MethodGet, "/hostile/shared/upload.txt", nil); st != 403 {
		t.Errorf("anonymous GET of a private bucket: %d", st)
	}
	if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("hostile"), Policy: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::hostile/shared/*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	if st := anon(http.MethodGet, "/hostile/shared/upload.txt", nil); st != 200 {
		t.Errorf("anonymous GET the policy allows: %d", st)
	}
	if st := anon(http.MethodGet, "/hostile/a//b", nil); st != 403 {
		t.Errorf("anonymous GET outside the policy's resource: %d", st)
	}
	if st := anon(http.MethodPut, "/hostile/shared/new.txt", strings.NewReader("x")); st != 403 {
		t.Errorf("anonymous PUT: %d", st)
	}
	_, err = c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("hostile"), Policy: aws.String(`{"Statement":[{"Effect":"Allow"`)})
	checkS3Error(t, "a policy that does not parse", err, 400, "MalformedPolicy")
	_, err = c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("hostile"), Policy: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*"}]}`)})
	checkS3Error(t, "a policy naming another bucket", err, 400, "MalformedPolicy")
}
