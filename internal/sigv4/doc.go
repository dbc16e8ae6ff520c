// Package sigv4 owns verification of AWS Signature Version 4 on inbound API
// requests.
//
// Every request that Sluice serves (the Lambda REST API today; CodeDeploy JSON
// 1.1, STS query and CloudWatch later) must be signed exactly as the stock AWS
// CLI, boto3/botocore and aws-sdk-go-v2 sign requests for real AWS. A
// [Verifier] rebuilds the canonical request from the request as it arrived on
// the wire, looks the access key up through a [CredentialSource], and either
// returns the proven [Identity] or an [*Error] that carries the AWS error
// code, HTTP status and message to put on the wire.
//
// Verification has two phases, so that a server can refuse a request without
// reading its body: [Verifier.Prepare] decides everything the headers decide
// (the signature's form, scope date, clock skew, signed Host, the declared
// payload hash's form, the access key, the session token and its expiry, and
// the scope's region and service for the caller to judge), and
// [Pending.Verify] or [Pending.VerifyHash] checks the payload hash and the
// signature once the body is in. [Verifier.Verify] does both.
//
// Both signing forms are accepted:
//
//   - header form: "Authorization: AWS4-HMAC-SHA256 Credential=...,
//     SignedHeaders=..., Signature=..." with the timestamp in X-Amz-Date (or,
//     failing that, the Date header);
//   - query (presigned) form: X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
//     X-Amz-SignedHeaders, X-Amz-Signature and optionally X-Amz-Expires and
//     X-Amz-Security-Token in the query string.
//
// Choices where AWS's behaviour is not pinned down or not wanted:
//
//   - The canonical URI is built from the path exactly as sent (r.RequestURI),
//     with '.', '..' and empty segments removed and then URI-encoded once more,
//     as the specification and botocore do for every service but S3.
//     aws-sdk-go-v2 does not remove those segments, so when removing them
//     changes the path the un-normalised encoding is accepted too. Handlers
//     must route on a path that cannot be reinterpreted (or reject dot
//     segments), since "/a/../b" and "/b" share a signature.
//   - The query string is decoded as Go decodes r.URL.Query() ('+' is a
//     space), so the signature covers exactly what handlers read.
//   - An unsigned Host header is refused with 403 InvalidSignatureException.
//   - A presigned request is refused once X-Amz-Date + X-Amz-Expires has
//     passed, with 403 InvalidSignatureException "Signature expired: ...
//     (now - N min.)"; without X-Amz-Expires the ordinary clock-skew window
//     applies. X-Amz-Expires above 604800 seconds is 400
//     IncompleteSignatureException.
//   - A presigned request without X-Amz-Content-Sha256 verifies with either
//     "UNSIGNED-PAYLOAD" or the body's SHA-256 (botocore and the Go SDK sign
//     the latter for services other than S3).
//   - X-Amz-Content-Sha256 values other than a hex SHA-256 and
//     "UNSIGNED-PAYLOAD" are refused with 400 IncompleteSignatureException,
//     except for S3, which also takes the aws-chunked forms
//     (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER],
//     STREAMING-UNSIGNED-PAYLOAD-TRAILER).
//   - S3 requests (scope service "s3") are canonicalised as S3 does: the
//     path decoded and encoded once, no segment removed. [Pending.VerifyStreaming]
//     verifies their signature over the declared payload hash before the
//     body is read and returns a [Payload] that checks the body as it is
//     read: a hex SHA-256 at its end, each aws-chunked chunk's signature at
//     the chunk's end (streaming.go), the trailer's signature after the last
//     chunk; only the trailers announced in X-Amz-Trailer are taken.
//   - Every [Error] carries a [Kind], so a service that names failures in
//     its own words (S3's SignatureDoesNotMatch, RequestTimeTooSkewed...)
//     can map them.
//   - Messages never echo the Authorization header (AWS appends it to some
//     IncompleteSignatureException messages); client values quoted in a
//     message are cut at 128 bytes.
//   - A session token sent with a long-term access key is refused like a
//     wrong one (403 UnrecognizedClientException).
//
// The package does not know which region or service a request is meant for:
// it returns both from the credential scope in [Identity], and the caller
// decides whether they are acceptable. It never logs, and it never puts a
// secret or a signature it computed into an error message.
package sigv4
