package s3api

import (
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/internal/fault"
	"github.com/sluice-dev/sluice/internal/sigv4"
)

// TestXMLShapes: the documents botocore's S3 model describes, as the edge writes them.
func TestXMLShapes(t *testing.T) {
	count, size := 1, int64(1)
	marker := ""
	for _, tc := range []struct {
		name string
		v    any
		want string
	}{
		{"ListAllMyBucketsResult", listAllMyBucketsResult{Xmlns: xmlns, Owner: owner{ID: "000000000000"},
			Buckets: []bucketMember{{Name: "b", CreationDate: "2026-01-02T03:04:05.000Z", BucketRegion: "us-east-1"}}},
			`<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>000000000000</ID></Owner><Buckets><Bucket><Name>b</Name><CreationDate>2026-01-02T03:04:05.000Z</CreationDate><BucketRegion>us-east-1</BucketRegion></Bucket></Buckets></ListAllMyBucketsResult>`},
		{"ListBucketResult v2", listBucketResult{Xmlns: xmlns, Name: "b", Prefix: "p/", KeyCount: &count, MaxKeys: 1, Delimiter: "/", IsTruncated: true,
			NextContinuationToken: "tok", Contents: []object{{Key: "p/k", LastModified: "2026-01-02T03:04:05.000Z", ETag: `"e"`, Size: 3, StorageClass: "STANDARD"}},
			CommonPrefixes: []commonPrefix{{Prefix: "p/q/"}}},
			`<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>p/</Prefix><NextContinuationToken>tok</NextContinuationToken><KeyCount>1</KeyCount><MaxKeys>1</MaxKeys><Delimiter>/</Delimiter><IsTruncated>true</IsTruncated><Contents><Key>p/k</Key><LastModified>2026-01-02T03:04:05.000Z</LastModified><ETag>&#34;e&#34;</ETag><Size>3</Size><StorageClass>STANDARD</StorageClass></Contents><CommonPrefixes><Prefix>p/q/</Prefix></CommonPrefixes></ListBucketResult>`},
		{"ListBucketResult v1", listBucketResult{Xmlns: xmlns, Name: "b", Marker: &marker, MaxKeys: 1000},
			`<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix></Prefix><Marker></Marker><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>`},
		{"ListVersionsResult", listVersionsResult{Xmlns: xmlns, Name: "b", MaxKeys: 2, Versions: []objectVersion{
			{XMLName: xml.Name{Local: "DeleteMarker"}, Key: "k", VersionID: "v2", IsLatest: true, LastModified: "t", Owner: owner{ID: "1"}},
			{XMLName: xml.Name{Local: "Version"}, Key: "k", VersionID: "v1", LastModified: "t", ETag: `"e"`, Size: &size, StorageClass: "STANDARD", Owner: owner{ID: "1"}}}},
			`<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix></Prefix><KeyMarker></KeyMarker><VersionIdMarker></VersionIdMarker><MaxKeys>2</MaxKeys><IsTruncated>false</IsTruncated><DeleteMarker><Key>k</Key><VersionId>v2</VersionId><IsLatest>true</IsLatest><LastModified>t</LastModified><Owner><ID>1</ID></Owner></DeleteMarker><Version><Key>k</Key><VersionId>v1</VersionId><IsLatest>false</IsLatest><LastModified>t</LastModified><ETag>&#34;e&#34;</ETag><Size>1</Size><StorageClass>STANDARD</StorageClass><Owner><ID>1</ID></Owner></Version></ListVersionsResult>`},
		{"DeleteResult", deleteResult{Xmlns: xmlns, Deleted: []deletedObject{{Key: "a", DeleteMarker: true, DeleteMarkerVersionID: "m"}},
			Errors: []deleteError{{Key: "b", Code: "AccessDenied", Message: "Access Denied"}}},
			`<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Deleted><Key>a</Key><DeleteMarker>true</DeleteMarker><DeleteMarkerVersionId>m</DeleteMarkerVersionId></Deleted><Error><Key>b</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error></DeleteResult>`},
		{"LocationConstraint", locationConstraint{Xmlns: xmlns, Value: "eu-west-1"},
			`<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">eu-west-1</LocationConstraint>`},
	} {
		got, err := xml.Marshal(tc.v)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
	if got := encodeKey("a b/c+d=é", "url"); got != "a%20b/c%2Bd%3D%C3%A9" {
		t.Errorf("encodeKey: %s", got)
	}
}

// TestErrorAnswers: S3's error document, statuses, the extra member S3 adds for a bucket or key, no body for HEAD,
// and the signature failures in S3's words.
func TestErrorAnswers(t *testing.T) {
	h := &Handler{log: nil}
	for _, tc := range []struct {
		name, method string
		err          error
		status       int
		body         string
	}{
		{"NoSuchKey", "GET", fault.New("NoSuchKey", "The specified key does not exist."), 404, "<Key>k</Key>"},
		{"NoSuchBucket", "GET", fault.New("NoSuchBucket", "The specified bucket does not exist"), 404, "<BucketName>bkt</BucketName>"},
		{"HEAD", "HEAD", fault.New("NoSuchKey", "The specified key does not exist."), 404, ""},
		{"InvalidRange", "GET", fault.New("InvalidRange", "The requested range is not satisfiable"), 416, "<Code>InvalidRange</Code>"},
		{"mismatch", "PUT", &sigv4.Error{Kind: sigv4.KindMismatch}, 403, "<Code>SignatureDoesNotMatch</Code>"},
		{"expired", "GET", &sigv4.Error{Kind: sigv4.KindExpiredRequest}, 403, "<Message>Request has expired</Message>"},
		{"skew", "GET", &sigv4.Error{Kind: sigv4.KindSkewed}, 403, "<Code>RequestTimeTooSkewed</Code>"},
		{"unknown key", "GET", &sigv4.Error{Kind: sigv4.KindUnknownKey}, 403, "<Code>InvalidAccessKeyId</Code>"},
		{"payload hash", "PUT", &sigv4.Error{Kind: sigv4.KindContentMismatch, Message: "m"}, 400, "<Code>XAmzContentSHA256Mismatch</Code>"},
	} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(tc.method, "/bkt/k", nil)
		h.writeError(&request{r: r, w: w, bucket: "bkt", key: "k"}, tc.err)
		body := w.Body.String()
		if w.Code != tc.status || tc.body != "" && !strings.Contains(body, tc.body) || tc.body == "" && body != "" {
			t.Errorf("%s: %d %s", tc.name, w.Code, body)
		}
		if tc.body != "" && !strings.HasPrefix(body, `<?xml version="1.0" encoding="UTF-8"?>`+"\n<Error><Code>") {
			t.Errorf("%s: not S3's error document: %s", tc.name, body)
		}
		if tc.body != "" && w.Header().Get("Content-Type") != "application/xml" {
			t.Errorf("%s: Content-Type %q", tc.name, w.Header().Get("Content-Type"))
		}
	}
	w := httptest.NewRecorder()
	h.writeError(&request{r: httptest.NewRequest("GET", "/bkt/k", nil), w: w}, fault.New("NotModified", "Not Modified"))
	if w.Code != http.StatusNotModified || w.Body.Len() != 0 {
		t.Errorf("304: %d %q", w.Code, w.Body.String())
	}
}
