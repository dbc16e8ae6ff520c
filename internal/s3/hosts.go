package s3

import (
	"regexp"
	"strings"
)

// awsRegion matches a region as AWS spells it in endpoint hosts: us-east-1, eu-central-2, us-gov-west-1,
// cn-north-1, us-isob-east-1. It keeps "s3-control", "s3-accesspoint" and the like from passing for the legacy
// "s3-<region>" form.
var awsRegion = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]+$`)

// AWSHost reads a host (lower case, no port) in S3's own domain, amazonaws.com, in the forms AWS's SDKs address
// it: "s3.amazonaws.com", "s3.<region>.amazonaws.com", the legacy "s3-<region>.amazonaws.com" and the dual-stack
// "s3.dualstack.<region>.amazonaws.com" (path-style, bucket ""), or any of them below a bucket name
// ("<bucket>.s3.<region>.amazonaws.com": virtual-hosted). A bucket name may hold dots, so the S3 part is found
// from the right. Other S3 endpoints (control, access points, S3 Express zonal hosts) are not S3's REST API for
// buckets and are not recognised.
func AWSHost(host string) (bucket string, ok bool) {
	rest, found := strings.CutSuffix(host, ".amazonaws.com")
	if !found {
		return "", false
	}
	labels := strings.Split(rest, ".")
	n := len(labels)
	var s3Labels int
	switch {
	case labels[n-1] == "s3":
		s3Labels = 1
	case n >= 2 && labels[n-2] == "s3" && awsRegion.MatchString(labels[n-1]):
		s3Labels = 2
	case n >= 3 && labels[n-3] == "s3" && labels[n-2] == "dualstack" && awsRegion.MatchString(labels[n-1]):
		s3Labels = 3
	case strings.HasPrefix(labels[n-1], "s3-") && awsRegion.MatchString(labels[n-1][3:]):
		s3Labels = 1
	default:
		return "", false
	}
	if n == s3Labels {
		return "", true
	}
	bucket = strings.Join(labels[:n-s3Labels], ".")
	if CheckBucketName(bucket) != nil {
		return "", false
	}
	return bucket, true
}
