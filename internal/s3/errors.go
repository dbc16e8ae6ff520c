package s3

import (
	"github.com/sluice-dev/sluice/internal/fault"
)

// S3's error codes (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).
const (
	CodeAccessDenied                 = "AccessDenied"
	CodeBadDigest                    = "BadDigest"
	CodeBucketAlreadyExists          = "BucketAlreadyExists"
	CodeBucketAlreadyOwnedByYou      = "BucketAlreadyOwnedByYou"
	CodeBucketNotEmpty               = "BucketNotEmpty"
	CodeEntityTooLarge               = "EntityTooLarge"
	CodeEntityTooSmall               = "EntityTooSmall"
	CodeIllegalLocationConstraint    = "IllegalLocationConstraintException"
	CodeIncompleteBody               = "IncompleteBody"
	CodeInternalError                = "InternalError"
	CodeInvalidArgument              = "InvalidArgument"
	CodeInvalidBucketName            = "InvalidBucketName"
	CodeInvalidDigest                = "InvalidDigest"
	CodeInvalidLocationConstraint    = "InvalidLocationConstraint"
	CodeInvalidPart                  = "InvalidPart"
	CodeInvalidPartOrder             = "InvalidPartOrder"
	CodeInvalidRange                 = "InvalidRange"
	CodeInvalidRequest               = "InvalidRequest"
	CodeInvalidTag                   = "InvalidTag"
	CodeKeyTooLong                   = "KeyTooLongError"
	CodeMalformedXML                 = "MalformedXML"
	CodeMalformedPolicy              = "MalformedPolicy"
	CodeMethodNotAllowed             = "MethodNotAllowed"
	CodeMissingContentLength         = "MissingContentLength"
	CodeNoSuchBucket                 = "NoSuchBucket"
	CodeNoSuchBucketPolicy           = "NoSuchBucketPolicy"
	CodeNoSuchKey                    = "NoSuchKey"
	CodeNoSuchLifecycleConfiguration = "NoSuchLifecycleConfiguration"
	CodeNoSuchPublicAccessBlock      = "NoSuchPublicAccessBlockConfiguration"
	CodeNoSuchTagSet                 = "NoSuchTagSet"
	CodeNoSuchUpload                 = "NoSuchUpload"
	CodeNoSuchVersion                = "NoSuchVersion"
	CodeNotImplemented               = "NotImplemented"
	CodeNotModified                  = "NotModified"
	CodePreconditionFailed           = "PreconditionFailed"
	CodeServiceUnavailable           = "ServiceUnavailable"
	CodeXAmzContentSHA256Mismatch    = "XAmzContentSHA256Mismatch"
)

// The errors with fixed messages.
func ErrNoSuchBucket() error {
	return fault.New(CodeNoSuchBucket, "The specified bucket does not exist")
}
func ErrNoSuchKey() error { return fault.New(CodeNoSuchKey, "The specified key does not exist.") }
func ErrNoSuchVersion() error {
	return fault.New(CodeNoSuchVersion, "The specified version does not exist.")
}
func ErrNoSuchUpload() error {
	return fault.New(CodeNoSuchUpload, "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
}
func ErrBucketNotEmpty() error {
	return fault.New(CodeBucketNotEmpty, "The bucket you tried to delete is not empty")
}
func ErrBucketAlreadyOwnedByYou() error {
	return fault.New(CodeBucketAlreadyOwnedByYou, "Your previous request to create the named bucket succeeded and you already own it.")
}
func ErrInvalidBucketName() error {
	return fault.New(CodeInvalidBucketName, "The specified bucket is not valid.")
}
func ErrKeyTooLong() error { return fault.New(CodeKeyTooLong, "Your key is too long") }
func ErrMalformedXML() error {
	return fault.New(CodeMalformedXML, "The XML you provided was not well-formed or did not validate against our published schema")
}
func ErrPreconditionFailed() error {
	return fault.New(CodePreconditionFailed, "At least one of the pre-conditions you specified did not hold")
}
func ErrNotModified() error { return fault.New(CodeNotModified, "Not Modified") }
func ErrInvalidRange() error {
	return fault.New(CodeInvalidRange, "The requested range is not satisfiable")
}
func ErrMethodNotAllowed() error {
	return fault.New(CodeMethodNotAllowed, "The specified method is not allowed against this resource.")
}
func ErrBadDigest() error {
	return fault.New(CodeBadDigest, "The Content-MD5 you specified did not match what we received.")
}
func ErrInvalidDigest() error {
	return fault.New(CodeInvalidDigest, "The Content-MD5 you specified is not valid.")
}
func ErrEntityTooSmall() error {
	return fault.New(CodeEntityTooSmall, "Your proposed upload is smaller than the minimum allowed object size.")
}
func ErrEntityTooLarge() error {
	return fault.New(CodeEntityTooLarge, "Your proposed upload exceeds the maximum allowed size")
}
func ErrInvalidPart() error {
	return fault.New(CodeInvalidPart, "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.")
}
func ErrInvalidPartOrder() error {
	return fault.New(CodeInvalidPartOrder, "The list of parts was not in ascending order. Parts must be ordered by part number.")
}
func ErrNoSuchBucketPolicy() error {
	return fault.New(CodeNoSuchBucketPolicy, "The bucket policy does not exist")
}
func ErrNoSuchLifecycleConfiguration() error {
	return fault.New(CodeNoSuchLifecycleConfiguration, "The lifecycle configuration does not exist")
}
func ErrNoSuchTagSet() error { return fault.New(CodeNoSuchTagSet, "The TagSet does not exist") }
func ErrNoSuchPublicAccessBlock() error {
	return fault.New(CodeNoSuchPublicAccessBlock, "The public access block configuration was not found")
}
func ErrAccessDenied() error { return fault.New(CodeAccessDenied, "Access Denied") }

// InvalidArgument is S3's InvalidArgument with a message.
func InvalidArgument(format string, args ...any) error {
	return fault.New(CodeInvalidArgument, format, args...)
}

// InvalidRequest is S3's InvalidRequest with a message.
func InvalidRequest(format string, args ...any) error {
	return fault.New(CodeInvalidRequest, format, args...)
}
