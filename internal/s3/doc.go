// Package s3 holds Amazon S3's rules, pure: bucket names and LocationConstraint, object keys, the errors S3 answers
// with (codes and exact messages), conditional requests (If-Match, If-None-Match, If-Modified-Since,
// If-Unmodified-Since), byte ranges, multipart uploads' part checks and ETag, flexible checksums (CRC32, CRC32C,
// CRC64NVME, SHA1, SHA256) and the bucket configurations' checks (versioning, lifecycle, tagging, public access
// block, encryption). It does no I/O: package buckets applies these rules to the store, package s3api puts them on
// the wire.
package s3
