package s3

import "testing"

func TestAWSHost(t *testing.T) {
	for _, c := range []struct {
		host   string
		bucket string
		ok     bool
	}{
		{"s3.amazonaws.com", "", true},
		{"s3.us-east-1.amazonaws.com", "", true},
		{"s3.us-gov-west-1.amazonaws.com", "", true},
		{"s3-us-west-2.amazonaws.com", "", true},
		{"s3.dualstack.eu-west-1.amazonaws.com", "", true},
		{"my-bucket.s3.amazonaws.com", "my-bucket", true},
		{"my-bucket.s3.us-east-1.amazonaws.com", "my-bucket", true},
		{"my.dotted.bucket.s3.us-east-1.amazonaws.com", "my.dotted.bucket", true},
		{"my-bucket.s3-us-west-2.amazonaws.com", "my-bucket", true},
		{"my-bucket.s3.dualstack.us-east-1.amazonaws.com", "my-bucket", true},
		{"lambda.us-east-1.amazonaws.com", "", false},
		{"123456789012.s3-control.us-east-1.amazonaws.com", "", false},
		{"ap-123456789012.s3-accesspoint.us-east-1.amazonaws.com", "", false},
		{"s3.us-east-1.amazonaws.com.evil.example", "", false},
		{"s3.amazonaws.com.cn", "", false},
		{"Bad_Bucket.s3.amazonaws.com", "", false},
		{"ab.s3.amazonaws.com", "", false},
		{"s3.localhost", "", false},
		{"amazonaws.com", "", false},
		{".amazonaws.com", "", false},
	} {
		bucket, ok := AWSHost(c.host)
		if bucket != c.bucket || ok != c.ok {
			t.Errorf("AWSHost(%q) = %q, %v; want %q, %v", c.host, bucket, ok, c.bucket, c.ok)
		}
	}
}
