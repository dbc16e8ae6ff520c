package controlplane

import (
	"strconv"
	"strings"

	"github.com/sluice-dev/sluice/internal/lambda"
)

const (
	functionPrefix = "fn/"
	workPrefix     = "work/"
	usageKey       = "acct/usage"
	policyRoot     = "policy/"
)

func functionKey(name string) string       { return functionPrefix + name }
func workKey(name string) string           { return workPrefix + name }
func seqKey(name string) string            { return "seq/" + name }
func versionPrefix(name string) string     { return "ver/" + name + "/" }
func versionKey(name string, n int) string { return versionPrefix(name) + lambda.VersionKey(n) }
func aliasPrefix(name string) string       { return "alias/" + name + "/" }
func aliasKey(name, alias string) string   { return aliasPrefix(name) + alias }

func eventInvokePrefix(name string) string          { return "eic/" + name + "/" }
func eventInvokeKey(name, qual string) string       { return eventInvokePrefix(name) + qual }
func provisionedPrefix(name string) string          { return "pc/" + name + "/" }
func provisionedKey(name, qual string) string       { return provisionedPrefix(name) + qual }
func urlPrefix(name string) string                  { return "url/" + name + "/" }
func urlKey(name, qual string) string               { return urlPrefix(name) + qual }
func provisionedReportPrefix(name string) string    { return "pcstate/" + name + "/" }
func provisionedReportKey(name, qual string) string { return provisionedReportPrefix(name) + qual }
func policyPrefix(name string) string               { return policyRoot + name + "/" }
func policyKey(name, qual string) string            { return policyPrefix(name) + qual }

// snapshotPrefixes are the key spaces a Snapshot reads: a change under one of them changes what invocations of
// the function see.
var snapshotPrefixes = []string{functionPrefix, "ver/", "alias/", "eic/", "pc/", "url/"}

// snapshotFunction names the function whose Snapshot a key belongs to.
func snapshotFunction(key string) (string, bool) {
	for _, prefix := range snapshotPrefixes {
		rest, ok := strings.CutPrefix(key, prefix)
		if !ok {
			continue
		}
		if prefix == functionPrefix {
			return rest, rest != ""
		}
		name, _, ok := strings.Cut(rest, "/")
		return name, ok && name != ""
	}
	return "", false
}

// versionNumberFromKey parses the number at the end of a version key.
func versionNumberFromKey(key string) int {
	n, _ := strconv.Atoi(strings.TrimLeft(key[strings.LastIndexByte(key, '/')+1:], "0"))
	return n
}
