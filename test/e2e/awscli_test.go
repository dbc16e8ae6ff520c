package e2e

import (
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// TestAWSCLISeed runs the seed's walkthrough (§1 deploy, §6 configuration change, §2 weighted alias) with the
// literal shell text, once with the AWS CLI v1 and once with the v2. The server holds every settle for 1 s, so
// the `wait` commands really have to wait: without them the next command would fail with a conflict.
func TestAWSCLISeed(t *testing.T) {
	parallel(t)
	for _, v2 := range []bool{false, true} {
		t.Run(cliName(v2), func(t *testing.T) {
			t.Parallel()
			if v2 {
				requireCLIv2(t)
			} else {
				cliV1(t)
			}
			srv := startServer(t, "--processing-delay", "1s")
			c := srv.Lambda()
			dir := t.TempDir()
			zips := map[string][]byte{}
			for _, n := range []string{"build-1.zip", "build-2.zip", "build-3.zip", "build-4.zip"} {
				zips[n] = bootstrapZip(t, cliName(v2)+" "+n)
				writeFile(t, filepath.Join(dir, n), zips[n])
			}
			writeFile(t, filepath.Join(dir, "build.zip"), zips["build-1.zip"])

			// §1, verbatim apart from swapping in a rebuilt build.zip before the code update.
			out, errOut, code := runBash(t, srv, v2, dir, `
aws lambda create-function --function-name orders \
  --runtime provided.al2023 --handler bootstrap \
  --role arn:aws:iam::000000000000:role/orders \
  --zip-file fileb://build.zip
aws lambda wait function-active-v2 --function-name orders
cp build-2.zip build.zip   # the next build
aws lambda update-function-code --function-name orders --zip-file fileb://build.zip
aws lambda wait function-updated-v2 --function-name orders
VERSION=$(aws lambda publish-version --function-name orders --query Version --output text)
aws lambda create-alias --function-name orders --name live --function-version "$VERSION"
echo "VERSION=$VERSION"
`)
			if code != 0 {
				t.Fatalf("§1 sequence failed (exit %d)\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			if !strings.Contains(out, "\nVERSION=1\n") {
				t.Errorf("§1: publish-version --query Version --output text gave %q, want VERSION=1", lastLine(out))
			}
			v1, err := c.GetFunctionConfiguration(t.Context(), &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("orders"), Qualifier: aws.String("1")})
			if err != nil {
				t.Fatalf("get version 1: %v", err)
			}
			if got, want := aws.ToString(v1.CodeSha256), codeSha256(zips["build-2.zip"]); got != want {
				t.Errorf("version 1 CodeSha256 = %s, want the updated build's %s", got, want)
			}
			alias, err := c.GetAlias(t.Context(), &lambda.GetAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live")})
			if err != nil {
				t.Fatalf("get alias live: %v", err)
			}
			if aws.ToString(alias.FunctionVersion) != "1" {
				t.Errorf("alias live → %s, want 1", aws.ToString(alias.FunctionVersion))
			}

			// §1, later: the next release moves live with update-alias.
			out, errOut, code = runBash(t, srv, v2, dir, `
cp build-3.zip build.zip
aws lambda update-function-code --function-name orders --zip-file fileb://build.zip
aws lambda wait function-updated-v2 --function-name orders
VERSION=$(aws lambda publish-version --function-name orders --query Version --output text)
aws lambda update-alias --function-name orders --name live --function-version "$VERSION"
echo "VERSION=$VERSION"
`)
			if code != 0 {
				t.Fatalf("§1 (later) sequence failed (exit %d)\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			if !strings.Contains(out, "\nVERSION=2\n") {
				t.Errorf("§1 later: VERSION = %q, want 2", lastLine(out))
			}
			if a := getAliasCLI(t, srv, v2, "orders", "live"); a.FunctionVersion != "2" {
				t.Errorf("after update-alias, live → %s, want 2", a.FunctionVersion)
			}

			// §6: code, wait, configuration, wait, publish.
			out, errOut, code = runBash(t, srv, v2, dir, `
cp build-4.zip build.zip
aws lambda update-function-code --function-name orders --zip-file fileb://build.zip
aws lambda wait function-updated-v2 --function-name orders
aws lambda update-function-configuration --function-name orders --environment "Variables={LOG_LEVEL=INFO}"
aws lambda wait function-updated-v2 --function-name orders
aws lambda publish-version --function-name orders --output json
`)
			if code != 0 {
				t.Fatalf("§6 sequence failed (exit %d)\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			var pub struct {
				Version     string
				CodeSha256  string
				Environment struct{ Variables map[string]string }
			}
			// The output holds the three JSON documents of the mutating commands; the last one is publish-version's.
			docs := splitJSONDocs(out)
			if len(docs) == 0 {
				t.Fatalf("§6: no JSON output:\n%s", out)
			}
			mustJSON(t, "§6 publish-version", docs[len(docs)-1], &pub)
			if pub.Version != "3" {
				t.Errorf("§6: published version %q, want 3 (higher than 2)", pub.Version)
			}
			if pub.Environment.Variables["LOG_LEVEL"] != "INFO" {
				t.Errorf("§6: published version environment = %v, want LOG_LEVEL=INFO", pub.Environment.Variables)
			}
			if pub.CodeSha256 != codeSha256(zips["build-4.zip"]) {
				t.Errorf("§6: published CodeSha256 %s, want %s", pub.CodeSha256, codeSha256(zips["build-4.zip"]))
			}
			stdout, stderr, code := awsCLI(t, srv, v2, "lambda", "get-function-configuration", "--function-name", "orders", "--qualifier", "3")
			if code != 0 {
				t.Fatalf("get-function-configuration :3: exit %d: %s", code, stderr)
			}
			var v3 struct {
				Environment struct{ Variables map[string]string }
			}
			mustJSON(t, "get-function-configuration :3", stdout, &v3)
			if v3.Environment.Variables["LOG_LEVEL"] != "INFO" {
				t.Errorf("version 3 environment = %v, want LOG_LEVEL=INFO", v3.Environment.Variables)
			}

			// §2: a 3% canary of version 2 on live, in shorthand and in JSON.
			for _, form := range []string{
				`--routing-config 'AdditionalVersionWeights={2=0.03}'`,
				`--routing-config '{"AdditionalVersionWeights":{"2":0.03}}'`,
			} {
				_, errOut, code := runBash(t, srv, v2, dir,
					`aws lambda update-alias --function-name orders --name live --function-version 1 --routing-config '{"AdditionalVersionWeights":{}}' > /dev/null
aws lambda update-alias --function-name orders --name live --function-version 1 `+form+` > /dev/null`)
				if code != 0 {
					t.Errorf("update-alias %s: exit %d\n%s", form, code, errOut)
					continue
				}
				a := getAliasCLI(t, srv, v2, "orders", "live")
				if a.FunctionVersion != "1" || a.RoutingConfig == nil || len(a.RoutingConfig.AdditionalVersionWeights) != 1 ||
					a.RoutingConfig.AdditionalVersionWeights["2"] != 0.03 {
					t.Errorf("after update-alias %s: get-alias = %+v, want version 1 with {2: 0.03}", form, a)
				}
			}

			// The article's quoted-key form is not valid shorthand syntax: the CLI itself rejects it while parsing
			// its arguments, before any request reaches the server (client-side, not a server error).
			_, errOut, code = runBash(t, srv, v2, dir,
				`aws lambda update-alias --function-name orders --name live --function-version 1 --routing-config 'AdditionalVersionWeights={"2"=0.03}'`)
			if code == 0 {
				t.Errorf(`update-alias with AdditionalVersionWeights={"2"=0.03} succeeded; the CLI should reject it`)
			} else if !strings.Contains(errOut, "Error parsing parameter '--routing-config'") {
				t.Errorf("quoted-key shorthand: stderr does not mention the parse error:\n%s", errOut)
			}
			if a := getAliasCLI(t, srv, v2, "orders", "live"); a.RoutingConfig == nil || a.RoutingConfig.AdditionalVersionWeights["2"] != 0.03 {
				t.Errorf("the rejected command changed the alias: %+v", a)
			}

			stdout, stderr, code = sluice(t, srv.Env(), "status", "orders", "--data-dir", srv.DataDir)
			if code != 0 {
				t.Fatalf("sluice status: exit %d: %s", code, stderr)
			}
			if !regexp.MustCompile(`(?m)^live\s+1 \(97%\) \+ 2 \(3%\)\s*$`).MatchString(stdout) {
				t.Errorf("sluice status does not show `live  1 (97%%) + 2 (3%%)`:\n%s", stdout)
			}

			// The CLI's view of an error, with the HTTP status from its debug log.
			_, stderr, code = awsCLI(t, srv, v2, "lambda", "get-function", "--function-name", "nope", "--debug")
			checkCLIError(t, "get-function nope", stderr, code, wantErr{Status: 404, Code: "ResourceNotFoundException",
				Message: "Function not found: " + arnPrefix + "nope"}, true)
		})
	}
}

// cliAlias is get-alias's JSON.
type cliAlias struct {
	AliasArn        string
	Name            string
	FunctionVersion string
	RevisionId      string
	RoutingConfig   *struct{ AdditionalVersionWeights map[string]float64 }
}

func getAliasCLI(t *testing.T, srv *server, v2 bool, fn, name string) cliAlias {
	t.Helper()
	stdout, stderr, code := awsCLI(t, srv, v2, "lambda", "get-alias", "--function-name", fn, "--name", name)
	if code != 0 {
		t.Fatalf("get-alias %s %s: exit %d: %s", fn, name, code, stderr)
	}
	var a cliAlias
	mustJSON(t, "get-alias", stdout, &a)
	return a
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// splitJSONDocs splits the concatenated pretty-printed JSON documents the CLI printed.
func splitJSONDocs(s string) []string {
	var docs []string
	var cur strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		cur.WriteString(line)
		if strings.TrimRight(line, "\n") == "}" {
			docs = append(docs, cur.String())
			cur.Reset()
		}
	}
	return docs
}

// TestAWSCLIListFunctionsPagination pages through 7 functions three at a time with the CLI's own pagination
// (--max-items / --starting-token), with both CLIs, with and without --function-version ALL.
func TestAWSCLIListFunctionsPagination(t *testing.T) {
	parallel(t)
	srv := startServer(t)
	c := srv.Lambda()
	names := []string{"pg-delta", "pg-alpha", "pg-golf", "pg-charlie", "pg-echo", "pg-bravo", "pg-foxtrot"}
	for _, n := range names {
		createFunction(t, c, n)
	}
	// Published versions for two of them: 1 for pg-alpha, 1 and 2 for pg-echo.
	publish(t, c, "pg-alpha")
	publish(t, c, "pg-echo")
	publishNew(t, c, "pg-echo", "second")
	sorted := slices.Clone(names)
	slices.Sort(sorted)

	for _, v2 := range []bool{false, true} {
		t.Run(cliName(v2), func(t *testing.T) {
			if v2 {
				requireCLIv2(t)
			}
			for _, all := range []bool{false, true} {
				var got []string
				token := ""
				for page := 0; ; page++ {
					if page > 10 {
						t.Fatalf("more than 10 pages of 3 for %d functions", len(names))
					}
					args := []string{"lambda", "list-functions", "--max-items", "3"}
					if all {
						args = append(args, "--function-version", "ALL")
					}
					if token != "" {
						args = append(args, "--starting-token", token)
					}
					stdout, stderr, code := awsCLI(t, srv, v2, args...)
					if code != 0 {
						t.Fatalf("list-functions page %d: exit %d: %s", page, code, stderr)
					}
					var resp struct {
						Functions []struct{ FunctionName, Version string }
						NextToken string
					}
					mustJSON(t, "list-functions", stdout, &resp)
					if len(resp.Functions) > 3 {
						t.Errorf("page %d holds %d functions, want at most 3", page, len(resp.Functions))
					}
					for _, f := range resp.Functions {
						if all {
							got = append(got, f.FunctionName+":"+f.Version)
						} else {
							got = append(got, f.FunctionName)
						}
					}
					if resp.NextToken == "" {
						break
					}
					token = resp.NextToken
				}
				if !all {
					if !slices.Equal(got, sorted) {
						t.Errorf("list-functions --max-items 3 gave %v, want each function once, sorted: %v", got, sorted)
					}
					continue
				}
				var want []string
				for _, n := range sorted {
					want = append(want, n+":$LATEST")
				}
				want = append(want, "pg-alpha:1", "pg-echo:1", "pg-echo:2")
				gotSorted := slices.Clone(got)
				slices.Sort(gotSorted)
				slices.Sort(want)
				if !slices.Equal(gotSorted, want) {
					t.Errorf("list-functions --function-version ALL gave %v, want exactly %v", got, want)
				}
			}
		})
	}
}
