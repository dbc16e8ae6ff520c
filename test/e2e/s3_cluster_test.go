package e2e

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestS3Cluster: in a cluster, an object written through one node is read through another, a multipart upload's
// parts may arrive at different nodes, and an acknowledged object survives the loss of the node that took it.
func TestS3Cluster(t *testing.T) {
	parallel(t)
	nodes := startCluster(t, 3)
	ctx := t.Context()
	c0, c1, c2 := nodes[0].S3(false), nodes[1].S3(false), nodes[2].S3(false)
	if _, err := c0.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("shared")}); err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("cluster "), 200_000)
	if _, err := c0.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("shared"), Key: aws.String("obj"), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	read := func(c *s3.Client, key string) []byte {
		t.Helper()
		o, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("shared"), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("GetObject %s: %v", key, err)
		}
		defer o.Body.Close()
		b, _ := io.ReadAll(o.Body)
		return b
	}
	for i, c := range []*s3.Client{c1, c2} {
		if got := read(c, "obj"); !bytes.Equal(got, body) {
			t.Errorf("node %d read %d bytes", i+1, len(got))
		}
	}

	// Parts through different nodes, completed through a third.
	up, err := c0.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("shared"), Key: aws.String("parts")})
	if err != nil {
		t.Fatal(err)
	}
	p1 := bytes.Repeat([]byte("1"), 5<<20)
	r1, err := c1.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("shared"), Key: aws.String("parts"), UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader(p1)})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := c2.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("shared"), Key: aws.String("parts"), UploadId: up.UploadId, PartNumber: aws.Int32(2), Body: strings.NewReader("two")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c0.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("shared"), Key: aws.String("parts"), UploadId: up.UploadId,
		MultipartUpload: &s3types.CompletedMultipartUpload{Parts: []s3types.CompletedPart{{PartNumber: aws.Int32(1), ETag: r1.ETag}, {PartNumber: aws.Int32(2), ETag: r2.ETag}}}}); err != nil {
		t.Fatal(err)
	}
	if got := read(c2, "parts"); !bytes.Equal(got, append(p1, "two"...)) {
		t.Errorf("assembled object read through node 2: %d bytes", len(got))
	}

	// The node that took an upload dies: the other copy serves it.
	big := bytes.Repeat([]byte("survivor"), 1<<20)
	if _, err := manager.NewUploader(c1).Upload(ctx, &s3.PutObjectInput{Bucket: aws.String("shared"), Key: aws.String("survivor"), Body: bytes.NewReader(big)}); err != nil {
		t.Fatal(err)
	}
	nodes[1].Kill(t)
	for i, c := range []*s3.Client{c0, c2} {
		if got := read(c, "survivor"); !bytes.Equal(got, big) {
			t.Errorf("node %d after the uploader died: %d bytes", []int{0, 2}[i], len(got))
		}
	}
}
