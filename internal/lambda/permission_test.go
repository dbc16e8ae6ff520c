package lambda

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/internal/fault"
)

// TestStatement renders AddPermission requests; the expected texts are AWS's recorded answers (account and region
// replaced), byte for byte.
func TestStatement(t *testing.T) {
	const fn = "arn:aws:lambda:us-east-1:000000000000:function:orders"
	cases := []struct {
		name     string
		p        Permission
		resource string
		want     string
	}{
		{"service with a source ARN",
			Permission{StatementID: "s3", Action: "lambda:InvokeFunction", Principal: "s3.amazonaws.com", SourceARN: "arn:aws:s3:::test-bucket"}, fn,
			`{"Sid":"s3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"` + fn + `","Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::test-bucket"}}}`},
		{"service without conditions",
			Permission{StatementID: "logs", Action: "lambda:InvokeFunction", Principal: "logs.amazonaws.com"}, fn,
			`{"Sid":"logs","Effect":"Allow","Principal":{"Service":"logs.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"` + fn + `"}`},
		{"version",
			Permission{StatementID: "s3", Action: "lambda:InvokeFunction", Principal: "s3.amazonaws.com"}, fn + ":1",
			`{"Sid":"s3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"` + fn + `:1"}`},
		{"wildcard principal with a source account",
			Permission{StatementID: "wilcard", Action: "lambda:InvokeFunction", Principal: "*", SourceAccount: "000000000000"}, fn,
			`{"Sid":"wilcard","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"` + fn + `","Condition":{"StringEquals":{"AWS:SourceAccount":"000000000000"}}}`},
		{"account ID",
			Permission{StatementID: "account-id", Action: "lambda:InvokeFunction", Principal: "000000000000"}, fn,
			`{"Sid":"account-id","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"lambda:InvokeFunction","Resource":"` + fn + `"}`},
		{"user ARN",
			Permission{StatementID: "user-arn", Action: "lambda:InvokeFunction", Principal: "arn:aws:iam::000000000000:user/alice", SourceAccount: "000000000000"}, fn,
			`{"Sid":"user-arn","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/alice"},"Action":"lambda:InvokeFunction","Resource":"` + fn + `","Condition":{"StringEquals":{"AWS:SourceAccount":"000000000000"}}}`},
		{"assumed-role ARN",
			Permission{StatementID: "session", Action: "lambda:GetFunction", Principal: "arn:aws:sts::000000000000:assumed-role/orders/s"}, fn,
			`{"Sid":"session","Effect":"Allow","Principal":{"AWS":"arn:aws:sts::000000000000:assumed-role/orders/s"},"Action":"lambda:GetFunction","Resource":"` + fn + `"}`},
		{"every optional field of a function URL grant",
			Permission{StatementID: "urlPermission", Action: "lambda:InvokeFunctionUrl", Principal: "*", SourceARN: "arn:aws:s3:::test-bucket",
				SourceAccount: "000000000000", PrincipalOrgID: "o-1234567890", FunctionURLAuthType: "NONE"}, fn,
			`{"Sid":"urlPermission","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunctionUrl","Resource":"` + fn + `","Condition":{"StringEquals":{"AWS:SourceAccount":"000000000000","lambda:FunctionUrlAuthType":"NONE","aws:PrincipalOrgID":"o-1234567890"},"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::test-bucket"}}}`},
		{"Alexa skill token",
			Permission{StatementID: "alexaSkill", Action: "lambda:InvokeFunction", Principal: "*", EventSourceToken: "amzn1.ask.skill.xxxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"}, fn,
			`{"Sid":"alexaSkill","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"` + fn + `","Condition":{"StringEquals":{"lambda:EventSourceToken":"amzn1.ask.skill.xxxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"}}}`},
		{"invoked via a function URL (Sluice's order: not recorded)",
			Permission{StatementID: "viaUrl", Action: "lambda:InvokeFunction", Principal: "*", InvokedViaFunctionURL: true}, fn,
			`{"Sid":"viaUrl","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"` + fn + `","Condition":{"Bool":{"lambda:InvokedViaFunctionUrl":"true"}}}`},
		{"Alexa's principal under amazon.com",
			Permission{StatementID: "alexa", Action: "lambda:InvokeFunction", Principal: "alexa-appkit.amazon.com"}, fn,
			`{"Sid":"alexa","Effect":"Allow","Principal":{"Service":"alexa-appkit.amazon.com"},"Action":"lambda:InvokeFunction","Resource":"` + fn + `"}`},
		{"characters HTML escapes are kept",
			Permission{StatementID: "amp", Action: "lambda:*", Principal: "*", SourceARN: "arn:aws:sns:us-east-1:000000000000:a&b<c>"}, fn,
			`{"Sid":"amp","Effect":"Allow","Principal":"*","Action":"lambda:*","Resource":"` + fn + `","Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:sns:us-east-1:000000000000:a&b<c>"}}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := acct.Statement(tc.p, tc.resource)
			if err != nil {
				t.Fatalf("Statement: %v", err)
			}
			if got != tc.want {
				t.Fatalf("Statement =\n%s\nwant\n%s", got, tc.want)
			}
			if !json.Valid([]byte(got)) {
				t.Fatalf("not JSON: %s", got)
			}
			if sid := StatementSid(got); sid != tc.p.StatementID {
				t.Fatalf("StatementSid = %q, want %q", sid, tc.p.StatementID)
			}
		})
	}
}

func TestStatementErrors(t *testing.T) {
	const invalid = "The provided principal was invalid. Please check the principal and try again."
	cases := []struct {
		name string
		p    Permission
		want string
	}{
		{"principal outside AWS (recorded)", Permission{Action: "lambda:InvokeFunction", Principal: "invalid.nonaws.com"}, invalid},
		{"principal a bare word", Permission{Action: "lambda:InvokeFunction", Principal: "orders"}, invalid},
		{"principal a short account", Permission{Action: "lambda:InvokeFunction", Principal: "12345"}, invalid},
		{"principal a Lambda ARN", Permission{Action: "lambda:InvokeFunction", Principal: "arn:aws:lambda:us-east-1:000000000000:function:f"}, invalid},
		{"principal an IAM ARN without account", Permission{Action: "lambda:InvokeFunction", Principal: "arn:aws:iam:::role/x"}, invalid},
		{"principal a service with a wildcard", Permission{Action: "lambda:InvokeFunction", Principal: "*.amazonaws.com"}, invalid},
		{"auth type with another action", Permission{Action: "lambda:InvokeFunction", Principal: "*", FunctionURLAuthType: "NONE"},
			"FunctionUrlAuthType is only supported for lambda:InvokeFunctionUrl action"},
		{"invoked via URL with another action", Permission{Action: "lambda:InvokeFunctionUrl", Principal: "*", InvokedViaFunctionURL: true},
			"InvokedViaFunctionUrl is only supported for lambda:InvokeFunction action"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.p.StatementID = "sid"
			_, err := acct.Statement(tc.p, "arn:aws:lambda:us-east-1:000000000000:function:orders")
			f, ok := fault.As(err)
			if !ok || f.Code != fault.InvalidParameterValue || f.Message != tc.want {
				t.Fatalf("Statement error = %v, want InvalidParameterValueException %q", err, tc.want)
			}
		})
	}
}

func TestPolicyDocumentAndSize(t *testing.T) {
	a := `{"Sid":"a","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"r"}`
	b := `{"Sid":"b","Effect":"Allow","Principal":"*","Action":"lambda:GetFunction","Resource":"r"}`
	if got, want := PolicyDocument([]string{a, b}), `{"Version":"2012-10-17","Id":"default","Statement":[`+a+`,`+b+`]}`; got != want {
		t.Fatalf("PolicyDocument = %s, want %s", got, want)
	}
	cases := []struct {
		size int
		want string
	}{
		{MaxPolicySize, ""},
		{MaxPolicySize + 1, "The final policy size (20481) is bigger than the limit (20480)."},
	}
	for _, tc := range cases {
		err := CheckPolicySize(strings.Repeat("x", tc.size))
		if tc.want == "" {
			if err != nil {
				t.Errorf("size %d: %v", tc.size, err)
			}
			continue
		}
		if f, ok := fault.As(err); !ok || f.Code != "PolicyLengthExceededException" || f.Message != tc.want {
			t.Errorf("size %d: %v, want PolicyLengthExceededException %q", tc.size, err, tc.want)
		}
	}
}

func TestCheckPolicyRevision(t *testing.T) {
	const fnMsg = "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
	const aliasMsg = "The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id"
	cases := []struct {
		name           string
		given, current string
		alias          bool
		want           string
	}{
		{"none given", "", "r1", false, ""},
		{"matching", "r1", "r1", true, ""},
		{"function's or version's", "wrong", "r1", false, fnMsg},
		{"alias's", "wrong", "r1", true, aliasMsg},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckPolicyRevision(tc.given, tc.current, tc.alias)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("CheckPolicyRevision: %v", err)
				}
				return
			}
			if f, ok := fault.As(err); !ok || f.Code != fault.PreconditionFailed || f.Message != tc.want {
				t.Fatalf("CheckPolicyRevision = %v, want PreconditionFailedException %q", err, tc.want)
			}
		})
	}
}
