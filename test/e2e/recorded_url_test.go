package e2e

import (
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// The function URL configuration API's recorded answers.

func urlReq(method, name, q string, body any) recReq {
	return recReq{Method: method, Path: fnPath("2021-10-31", name, "/url"), Query: qualifierQuery(q), Body: jsonBody(body)}
}

func getURLReq(name, q string) recReq { return urlReq("GET", name, q, nil) }

func listURLsReq(name string) recReq {
	return recReq{Method: "GET", Path: fnPath("2021-10-31", name, "/urls"), Query: url.Values{}}
}

// urlFields are the fields of a URL configuration the recordings pin down (times and the URL itself vary).
func urlFields(arn string, modified, invokeMode bool) map[string]any {
	f := map[string]any{"AuthType": "NONE", "FunctionArn": arn, "LastModifiedTime": absent, "InvokeMode": absent, "Cors": absent}
	if modified {
		delete(f, "LastModifiedTime")
	}
	if invokeMode {
		f["InvokeMode"] = "BUFFERED"
	}
	return f
}

func recordedFunctionURLs(t *testing.T, r *recorder) {
	lc := r.fixture(t, "rec-url-lifecycle")
	arn := "arn:<partition>:lambda:<region>:111111111111:function:<resource:1>"
	r.group(t, "TestLambdaUrl::test_url_config_lifecycle", []string{"<resource:1>", lc}, func(g *group) {
		g.step("url_creation", urlReq("POST", lc, "", map[string]any{"AuthType": "NONE"}), ok(201, urlFields(arn, false, false)))
		g.step("failed_duplication", urlReq("POST", lc, "", map[string]any{"AuthType": "NONE"}),
			errWant(409, "ResourceConflictException", "Failed to create function url config for [functionArn = "+arn+"]. Error message:  FunctionUrlConfig exists for this Lambda function"))
		g.step("get_url_config", getURLReq(lc, ""), ok(200, urlFields(arn, true, true)))
		updated := urlFields(arn, true, false)
		updated["AuthType"] = "AWS_IAM"
		g.step("updated_url_config", urlReq("PUT", lc, "", map[string]any{"AuthType": "AWS_IAM"}), ok(200, updated))
		g.step("delete", urlReq("DELETE", lc, "", nil), ok(204, nil))
		g.step("failed_getter", getURLReq(lc, ""), notFound("The resource you requested does not exist."))
	})

	pg := r.fixture(t, "rec-url-paging")
	pgARN := "arn:<partition>:lambda:<region>:111111111111:function:<function-name:1>"
	r.group(t, "TestLambdaUrl::test_url_config_list_paging", []string{"<function-name:1>", pg}, func(g *group) {
		g.step("fn_version_result", publishVersionReq(pg, nil), ok(201, map[string]any{"Version": "1"}))
		g.step("create_alias_result", createAliasReq(pg, map[string]any{"Name": "urlalias", "FunctionVersion": "1"}), ok(201, nil))
		g.step("list_function_notfound", listURLsReq("rec-url-missing"), notFound("Function does not exist"))
		g.step("list_all_empty", listURLsReq(pg), ok(200, map[string]any{"FunctionUrlConfigs": []any{}}))
		g.step("url_config_fn", urlReq("POST", pg, "", map[string]any{"AuthType": "NONE"}), ok(201, urlFields(pgARN, false, false)))
		g.step("url_config_alias", urlReq("POST", pg, "urlalias", map[string]any{"AuthType": "NONE"}), ok(201, urlFields(pgARN+":urlalias", false, false)))
		g.step("list_all", listURLsReq(pg), recWant{Status: 200, Check: func(t *testing.T, body map[string]any) {
			list, _ := body["FunctionUrlConfigs"].([]any)
			want := []string{expand(pgARN, g.subs), expand(pgARN+":urlalias", g.subs)}
			if len(list) != len(want) {
				t.Fatalf("FunctionUrlConfigs %v, want %d", list, len(want))
			}
			for i, item := range list {
				c, _ := item.(map[string]any)
				if c["FunctionArn"] != want[i] || c["AuthType"] != "NONE" || c["InvokeMode"] != "BUFFERED" || c["LastModifiedTime"] == nil {
					t.Errorf("FunctionUrlConfigs[%d] = %v, want FunctionArn %s", i, c, want[i])
				}
			}
		}})
	})

	ex := r.fixture(t, "rec-url-exceptions")
	if _, err := r.c.PublishVersion(t.Context(), &lambda.PublishVersionInput{FunctionName: aws.String(ex)}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.c.CreateAlias(t.Context(), &lambda.CreateAliasInput{FunctionName: aws.String(ex), Name: aws.String("urlalias"), FunctionVersion: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	exARN := arnPrefix + ex
	missing, missingARN := "rec-url-doesnotexist", arnPrefix+"rec-url-doesnotexist"
	qualifierPattern := func(v string) string {
		return patErr(v, "qualifier", `((?!^\d+$)^[0-9a-zA-Z-_]+$)`)
	}
	r.group(t, "TestLambdaUrl::test_url_config_exceptions", []string{"<function-name:1>", ex}, func(g *group) {
		for _, op := range []struct {
			name, method string
			body         any
			fnMissing    string // the answer for a missing function or alias
		}{
			{"create_function_url_config", "POST", map[string]any{"AuthType": "NONE"}, "Function does not exist"},
			{"get_function_url_config", "GET", nil, "The resource you requested does not exist."},
			{"delete_function_url_config", "DELETE", nil, "The resource you requested does not exist."},
			{"update_function_url_config", "PUT", map[string]any{"AuthType": "NONE"}, "Function does not exist"},
		} {
			req := func(name, q string) recReq { return urlReq(op.method, name, q, op.body) }
			g.step(op.name+"_name_doesnotexist", req(missing, ""), notFound(op.fnMissing))
			g.step(op.name+"_arn_doesnotexist", req(missingARN, ""), notFound(op.fnMissing))
			g.step(op.name+"_name_doesnotexist_qualifier", req(missing, "1"), validation1(qualifierPattern("1")))
			g.step(op.name+"_qualifier_version", req(ex, "1"), validation1(qualifierPattern("1")))
			g.step(op.name+"_qualifier_version_doesnotexist", req(ex, "2"), validation1(qualifierPattern("2")))
			g.step(op.name+"_qualifier_alias_doesnotexist", req(ex, "urlaliasdoesnotexist"), notFound(op.fnMissing))
			if op.method != "DELETE" {
				g.step(op.name+"_qualifier_alias_doesnotmatch_arn", req(exARN+":urlalias", "urlaliasdoesnotexist"), invalidParam(msgQualifierMismatch))
			}
			g.step(op.name+"_qualifier_latest", req(ex, "$LATEST"), validation1(qualifierPattern("$LATEST")))
			if op.method != "POST" {
				g.step(op.name+"_config_doesnotexist", req(ex, ""), notFound("The resource you requested does not exist."))
			}
		}
	})
}
