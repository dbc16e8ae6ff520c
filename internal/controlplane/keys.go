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
)

func functionKey(name string) string       { return functionPrefix + name }
func workKey(name string) string           { return workPrefix + name }
func seqKey(name string) string            { return "seq/" + name }
func versionPrefix(name string) string     { return "ver/" + name + "/" }
func versionKey(name string, n int) string { return versionPrefix(name) + lambda.VersionKey(n) }
func aliasPrefix(name string) string       { return "alias/" + name + "/" }
func aliasKey(name, alias string) string   { return aliasPrefix(name) + alias }

// versionNumberFromKey parses the number at the end of a version key.
func versionNumberFromKey(key string) int {
	n, _ := strconv.Atoi(strings.TrimLeft(key[strings.LastIndexByte(key, '/')+1:], "0"))
	return n
}
