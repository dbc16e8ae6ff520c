package s3

import (
	"net/netip"
	"strings"
	"unicode/utf8"

	"github.com/sluice-dev/sluice/internal/fault"
)

// MaxKeyBytes is the longest object key, in UTF-8 bytes.
const MaxKeyBytes = 1024

// CheckBucketName applies S3's general purpose bucket naming rules: 3 to 63 characters of lower-case letters,
// digits, dots and hyphens, beginning and ending with a letter or digit; no two adjacent dots; not an IPv4 address;
// none of the reserved prefixes (xn--, sthree-, amzn-s3-demo-) or suffixes (-s3alias, --ol-s3, .mrap, --x-s3,
// --table-s3).
func CheckBucketName(name string) error {
	if len(name) < 3 || len(name) > 63 {
		return ErrInvalidBucketName()
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return ErrInvalidBucketName()
		}
	}
	if !alnum(name[0]) || !alnum(name[len(name)-1]) || strings.Contains(name, "..") {
		return ErrInvalidBucketName()
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return ErrInvalidBucketName()
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return ErrInvalidBucketName()
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, s) {
			return ErrInvalidBucketName()
		}
	}
	return nil
}

func alnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// CheckKey applies the rules on object keys: not empty, at most 1024 bytes of valid UTF-8. Sluice also refuses
// keys holding U+0000, which no XML listing can carry (AWS accepts them and cannot list them without
// encoding-type=url).
func CheckKey(key string) error {
	switch {
	case key == "":
		return InvalidArgument("Object key must not be empty")
	case len(key) > MaxKeyBytes:
		return ErrKeyTooLong()
	case !utf8.ValidString(key):
		return InvalidArgument("Object key is not valid UTF-8")
	case strings.IndexByte(key, 0) >= 0:
		return InvalidArgument("Object key must not contain the NUL character")
	}
	return nil
}

// CheckLocationConstraint applies CreateBucket's rule on its LocationConstraint against the region the endpoint
// serves: us-east-1 takes none (an explicit "us-east-1" is refused, as by AWS); any other region must be named.
func CheckLocationConstraint(constraint, region string) error {
	switch {
	case constraint == "" && region == "us-east-1":
		return nil
	case constraint == "us-east-1":
		return fault.New(CodeInvalidLocationConstraint, "The specified location-constraint is not valid")
	case constraint == "":
		return fault.New(CodeIllegalLocationConstraint, "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.")
	case constraint != region:
		return fault.New(CodeIllegalLocationConstraint, "The %s location constraint is incompatible for the region specific endpoint this request was sent to.", constraint)
	}
	return nil
}
