package parameterstore

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/sluice-dev/sluice/internal/ssm"
)

// scanLimit bounds the records one page looks at, matching or not: past it the page ends early with a NextToken,
// as AWS's does when it "reaches an internal limit", so a filter that matches little costs bounded work per call.
const scanLimit = 1000

// token is a page's NextToken: the last store key the page looked at and a fingerprint of the request, so a token
// is refused by another request (InvalidNextToken), as AWS refuses one.
type token struct {
	After string `json:"a"`
	Of    string `json:"f"`
}

// fingerprint identifies a listing request by what decides its results.
func fingerprint(parts ...any) string {
	b, _ := json.Marshal(parts)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

func (t token) String() string {
	b, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(b)
}

// parseToken returns the key to continue after ("" for the first page) under prefix.
func parseToken(s *string, prefix, fp string) (string, error) {
	if s == nil || *s == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(*s)
	var t token
	if err != nil || json.Unmarshal(b, &t) != nil || t.Of != fp || !strings.HasPrefix(t.After, prefix) {
		return "", ssm.InvalidToken()
	}
	return t.After, nil
}
