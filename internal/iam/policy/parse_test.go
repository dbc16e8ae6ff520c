package policy

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		name string
		kind Kind
		doc  string
		want *Document
	}{
		{
			name: "identity single statement object and string elements",
			kind: Identity,
			doc: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"lambda:InvokeFunction",
				"Resource":"arn:aws:lambda:us-east-1:123456789012:function:orders"}}`,
			want: &Document{Version: Version2012, Statements: []Statement{{
				Effect:   EffectAllow,
				Action:   []string{"lambda:InvokeFunction"},
				Resource: []string{"arn:aws:lambda:us-east-1:123456789012:function:orders"},
			}}},
		},
		{
			name: "identity lists, Id, Sid, NotAction and NotResource",
			kind: Identity,
			doc: `{"Version":"2008-10-17","Id":"p1","Statement":[
				{"Sid":"A1","Effect":"Deny","NotAction":["lambda:Get*","lambda:List*"],"NotResource":["arn:aws:lambda:*:*:function:x"]},
				{"Sid":"","Effect":"Allow","Action":["*"],"Resource":["*"]}]}`,
			want: &Document{Version: Version2008, ID: "p1", Statements: []Statement{
				{Sid: "A1", Effect: EffectDeny, NotAction: []string{"lambda:Get*", "lambda:List*"},
					NotResource: []string{"arn:aws:lambda:*:*:function:x"}},
				{Effect: EffectAllow, Action: []string{"*"}, Resource: []string{"*"}},
			}},
		},
		{
			name: "no Version",
			kind: Identity,
			doc:  `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`,
			want: &Document{Statements: []Statement{{Effect: EffectAllow, Action: []string{"s3:GetObject"},
				Resource: []string{"arn:aws:s3:::b/*"}}}},
		},
		{
			name: "trust with bare star principal",
			kind: Trust,
			doc:  `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}`,
			want: &Document{Version: Version2012, Statements: []Statement{{Effect: EffectAllow,
				Principal: map[string][]string{"*": {"*"}}, Action: []string{"sts:AssumeRole"}}}},
		},
		{
			name: "trust GitHub OIDC with conditions in document order",
			kind: Trust,
			doc: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
				"Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},
				"Action":"sts:AssumeRoleWithWebIdentity",
				"Condition":{
					"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"},
					"StringLike":{"token.actions.githubusercontent.com:sub":["repo:o/r:ref:refs/heads/main","repo:o/r:environment:prod"]}}}]}`,
			want: &Document{Version: Version2012, Statements: []Statement{{
				Effect: EffectAllow,
				Principal: map[string][]string{"Federated": {
					"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"}},
				Action: []string{"sts:AssumeRoleWithWebIdentity"},
				Condition: []Condition{
					{Operator: "StringEquals", Key: "token.actions.githubusercontent.com:aud", Values: []string{"sts.amazonaws.com"}},
					{Operator: "StringLike", Key: "token.actions.githubusercontent.com:sub",
						Values: []string{"repo:o/r:ref:refs/heads/main", "repo:o/r:environment:prod"}},
				},
			}}},
		},
		{
			name: "condition values as numbers and booleans",
			kind: Identity,
			doc: `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{
				"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"s3:max-keys":[10, 2.5e1]},
				"DateGreaterThan":{"aws:EpochTime":1558080000},"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":[]}}}}`,
			want: &Document{Statements: []Statement{{Effect: EffectAllow, Action: []string{"s3:*"}, Resource: []string{"*"},
				Condition: []Condition{
					{Operator: "Bool", Key: "aws:SecureTransport", Values: []string{"true"}},
					{Operator: "NumericLessThan", Key: "s3:max-keys", Values: []string{"10", "2.5e1"}},
					{Operator: "DateGreaterThan", Key: "aws:EpochTime", Values: []string{"1558080000"}},
					{Operator: "ForAnyValue:StringEqualsIfExists", Key: "aws:TagKeys", Values: []string{}},
				}}}},
		},
		{
			name: "empty Condition block",
			kind: Trust,
			doc: `{"Statement":{"Effect":"Allow","Principal":{"AWS":["123456789012","arn:aws:iam::210987654321:role/ci/deploy"],
				"Service":"lambda.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{}}}`,
			want: &Document{Statements: []Statement{{Effect: EffectAllow,
				Principal: map[string][]string{"AWS": {"123456789012", "arn:aws:iam::210987654321:role/ci/deploy"},
					"Service": {"lambda.amazonaws.com"}},
				Action: []string{"sts:AssumeRole", "sts:TagSession"}}}},
		},
		{
			name: "trust Deny with NotPrincipal and wildcard STS action",
			kind: Trust,
			doc: `{"Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:sts::123456789012:assumed-role/r/s"},"Action":"sts:*"},
				{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"*"}]}`,
			want: &Document{Statements: []Statement{
				{Effect: EffectDeny, NotPrincipal: map[string][]string{"AWS": {"arn:aws:sts::123456789012:assumed-role/r/s"}},
					Action: []string{"sts:*"}},
				{Effect: EffectAllow, Principal: map[string][]string{"AWS": {"*"}}, Action: []string{"*"}},
			}},
		},
		{
			name: "resource policy as Lambda writes it",
			kind: Resource,
			doc: `{"Version":"2012-10-17","Id":"default","Statement":[{"Sid":"s3","Effect":"Allow",
				"Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction",
				"Resource":"arn:aws:lambda:us-east-1:123456789012:function:orders",
				"Condition":{"StringEquals":{"AWS:SourceAccount":"123456789012"},"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::b"}}},
				{"Sid":"url-permission_2","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunctionUrl",
				"Resource":"arn:aws:lambda:us-east-1:123456789012:function:orders:live"}]}`,
			want: &Document{Version: Version2012, ID: "default", Statements: []Statement{
				{Sid: "s3", Effect: EffectAllow, Principal: map[string][]string{"Service": {"s3.amazonaws.com"}},
					Action: []string{"lambda:InvokeFunction"}, Resource: []string{"arn:aws:lambda:us-east-1:123456789012:function:orders"},
					Condition: []Condition{{Operator: "StringEquals", Key: "AWS:SourceAccount", Values: []string{"123456789012"}},
						{Operator: "ArnLike", Key: "AWS:SourceArn", Values: []string{"arn:aws:s3:::b"}}}},
				{Sid: "url-permission_2", Effect: EffectAllow, Principal: map[string][]string{"*": {"*"}}, Action: []string{"lambda:InvokeFunctionUrl"},
					Resource: []string{"arn:aws:lambda:us-east-1:123456789012:function:orders:live"}},
			}},
		},
		{
			name: "surrounding whitespace",
			kind: Identity,
			doc:  "\n  {\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}}\n",
			want: &Document{Statements: []Statement{{Effect: EffectAllow, Action: []string{"*"}, Resource: []string{"*"}}}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.doc, tc.kind)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			want := *tc.want
			want.Kind = tc.kind
			if !reflect.DeepEqual(got, &want) {
				t.Fatalf("Parse =\n%#v\nwant\n%#v", got, &want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	// stmt wraps one statement body in a minimal document.
	stmt := func(body string) string { return `{"Version":"2012-10-17","Statement":[{` + body + `}]}` }
	const allowAll = `"Effect":"Allow","Action":"*","Resource":"*"`
	const trustOK = `"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"`

	cases := []struct {
		name string
		kind Kind
		doc  string
		want string
	}{
		// JSON and top level.
		{"invalid JSON", Identity, `{"Statement":[`, msgSyntax},
		{"trailing comma", Identity, stmt(allowAll + `,`), msgSyntax},
		{"trailing data", Identity, stmt(allowAll) + `{}`, msgSyntax},
		{"not an object", Identity, `[]`, msgSyntax},
		{"empty document", Identity, ``, msgSyntax},
		{"invalid UTF-8", Identity, stmt(`"Sid":"` + "\xff" + `",` + allowAll), msgSyntax},
		{"duplicate top-level key", Identity, `{"Version":"2012-10-17","Version":"2012-10-17","Statement":{` + allowAll + `}}`, msgSyntax},
		{"duplicate statement key", Identity, stmt(allowAll + `,"Effect":"Deny"`), msgSyntax},
		{"bad version", Identity, `{"Version":"2012-10-18","Statement":{` + allowAll + `}}`, msgSyntax},
		{"numeric version", Identity, `{"Version":2012,"Statement":{` + allowAll + `}}`, msgSyntax},
		{"non-string Id", Identity, `{"Id":1,"Statement":{` + allowAll + `}}`, msgSyntax},
		{"missing Statement", Identity, `{"Version":"2012-10-17"}`, msgSyntax},
		{"empty Statement list", Identity, `{"Version":"2012-10-17","Statement":[]}`, msgSyntax},
		{"string Statement", Identity, `{"Statement":"x"}`, msgSyntax},
		{"statement not an object", Identity, `{"Statement":["x"]}`, msgSyntax},
		{"unknown top-level field", Identity, `{"Foo":1,"Statement":{` + allowAll + `}}`, "Unknown field Foo"},
		{"element names are case-sensitive", Identity, `{"version":"2012-10-17","Statement":{` + allowAll + `}}`, "Unknown field version"},

		// Statement shape.
		{"unknown statement field", Identity, stmt(allowAll + `,"Foo":"x"`), "Unknown field Foo"},
		{"missing effect", Identity, stmt(`"Action":"*","Resource":"*"`), msgMissingEffect},
		{"invalid effect", Identity, stmt(`"Effect":"Maybe","Action":"*","Resource":"*"`), "Invalid effect: Maybe"},
		{"effect is case-sensitive", Identity, stmt(`"Effect":"allow","Action":"*","Resource":"*"`), "Invalid effect: allow"},
		{"non-string effect", Identity, stmt(`"Effect":true,"Action":"*","Resource":"*"`), msgSyntax},
		{"action object", Identity, stmt(`"Effect":"Allow","Action":{"a":1},"Resource":"*"`), msgSyntax},
		{"action list with number", Identity, stmt(`"Effect":"Allow","Action":["s3:Get",1],"Resource":"*"`), msgSyntax},
		{"resource null", Identity, stmt(`"Effect":"Allow","Action":"*","Resource":null`), msgSyntax},
		{"Action and NotAction", Identity, stmt(allowAll + `,"NotAction":"s3:*"`), msgSyntax},
		{"Resource and NotResource", Identity, stmt(allowAll + `,"NotResource":"*"`), msgSyntax},
		{"non-string Sid", Identity, stmt(`"Sid":1,` + allowAll), msgSyntax},
		{"Sid with space", Identity, stmt(`"Sid":"allow all",` + allowAll), msgSidCharset},
		{"duplicate Sid", Identity, `{"Statement":[{"Sid":"A",` + allowAll + `},{"Sid":"A",` + allowAll + `}]}`, msgSidUnique},
		{"missing actions", Identity, stmt(`"Effect":"Allow","Resource":"*"`), msgNoActions},
		{"empty action list", Identity, stmt(`"Effect":"Allow","Action":[],"Resource":"*"`), msgNoActions},
		{"missing resources", Identity, stmt(`"Effect":"Allow","Action":"*"`), msgNoResources},
		{"empty resource list", Identity, stmt(`"Effect":"Allow","Action":"*","Resource":[]`), msgNoResources},

		// Action and resource format.
		{"action without vendor", Identity, stmt(`"Effect":"Allow","Action":"InvokeFunction","Resource":"*"`), msgVendorPrefix},
		{"action with two colons", Identity, stmt(`"Effect":"Allow","Action":"lambda:a:b","Resource":"*"`), msgOneColon},
		{"wildcard vendor", Identity, stmt(`"Effect":"Allow","Action":"lamb*:Invoke","Resource":"*"`), "Vendor lamb* is not valid"},
		{"empty vendor", Identity, stmt(`"Effect":"Allow","Action":":Invoke","Resource":"*"`), "Vendor  is not valid"},
		{"resource not an ARN", Identity, stmt(`"Effect":"Allow","Action":"*","Resource":"orders"`), `Resource orders must be in ARN format or "*".`},
		{"resource ARN without service", Identity, stmt(`"Effect":"Allow","Action":"*","Resource":"arn:aws"`), `Resource arn:aws must be in ARN format or "*".`},
		{"not-resource not an ARN", Identity, stmt(`"Effect":"Allow","Action":"*","NotResource":["*","x"]`), `Resource x must be in ARN format or "*".`},

		// Conditions.
		{"unknown condition operator", Identity, stmt(allowAll + `,"Condition":{"StringEqualz":{"aws:username":"a"}}`), "Invalid Condition type : StringEqualz"},
		{"operator names are case-sensitive", Identity, stmt(allowAll + `,"Condition":{"stringequals":{"aws:username":"a"}}`), "Invalid Condition type : stringequals"},
		{"unknown set qualifier", Identity, stmt(allowAll + `,"Condition":{"ForSomeValues:StringEquals":{"aws:TagKeys":"a"}}`), "Invalid Condition type : ForSomeValues:StringEquals"},
		{"NullIfExists", Identity, stmt(allowAll + `,"Condition":{"NullIfExists":{"aws:username":"true"}}`), "Invalid Condition type : NullIfExists"},
		{"condition key without vendor", Identity, stmt(allowAll + `,"Condition":{"StringEquals":{"username":"a"}}`), msgVendorPrefix},
		{"condition not an object", Identity, stmt(allowAll + `,"Condition":["x"]`), msgSyntax},
		{"condition operator block not an object", Identity, stmt(allowAll + `,"Condition":{"StringEquals":"x"}`), msgSyntax},
		{"condition value object", Identity, stmt(allowAll + `,"Condition":{"StringEquals":{"aws:username":{"a":"b"}}}`), msgSyntax},
		{"condition value null", Identity, stmt(allowAll + `,"Condition":{"StringEquals":{"aws:username":null}}`), msgSyntax},
		{"condition nested list", Identity, stmt(allowAll + `,"Condition":{"StringEquals":{"aws:username":[["a"]]}}`), msgSyntax},
		{"bad date", Identity, stmt(allowAll + `,"Condition":{"DateLessThan":{"aws:CurrentTime":"2020-13-01T00:00:00Z"}}`), msgLegacyParsing},
		{"date words", Identity, stmt(allowAll + `,"Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}`), msgLegacyParsing},

		// Principals by kind.
		{"identity with Principal", Identity, stmt(allowAll + `,"Principal":"*"`), msgNoPrincipal},
		{"identity with NotPrincipal", Identity, stmt(allowAll + `,"NotPrincipal":{"AWS":"123456789012"}`), msgNoPrincipal},
		{"trust without principal", Trust, stmt(`"Effect":"Allow","Action":"sts:AssumeRole"`), msgMissingPrincipal},
		{"trust with Resource", Trust, stmt(trustOK + `,"Resource":"*"`), "Has prohibited field Resource"},
		{"trust with NotResource", Trust, stmt(trustOK + `,"NotResource":"*"`), "Has prohibited field NotResource"},
		{"trust Principal and NotPrincipal", Trust, stmt(trustOK + `,"NotPrincipal":{"AWS":"123456789012"}`), msgSyntax},
		{"trust NotPrincipal with Allow", Trust, stmt(`"Effect":"Allow","NotPrincipal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"`), msgNotPrincipalAllow},
		{"trust missing actions", Trust, stmt(`"Effect":"Allow","Principal":"*"`), msgNoActions},
		{"trust non-STS action", Trust, stmt(`"Effect":"Allow","Principal":"*","Action":["sts:AssumeRole","lambda:InvokeFunction"]`), msgTrustActions},
		{"trust STS action it does not control", Trust, stmt(`"Effect":"Allow","Principal":"*","Action":"sts:GetCallerIdentity"`), msgTrustActions},
		{"principal string other than star", Trust, stmt(`"Effect":"Allow","Principal":"arn:aws:iam::123456789012:root","Action":"sts:AssumeRole"`), msgSyntax},
		{"empty principal object", Trust, stmt(`"Effect":"Allow","Principal":{},"Action":"sts:AssumeRole"`), msgSyntax},
		{"empty principal list", Trust, stmt(`"Effect":"Allow","Principal":{"AWS":[]},"Action":"sts:AssumeRole"`), msgSyntax},
		{"principal object star key", Trust, stmt(`"Effect":"Allow","Principal":{"*":"*"},"Action":"sts:AssumeRole"`), msgSyntax},
		{"principal value number", Trust, stmt(`"Effect":"Allow","Principal":{"AWS":123456789012},"Action":"sts:AssumeRole"`), msgSyntax},
		{"AWS principal not an ARN", Trust, stmt(`"Effect":"Allow","Principal":{"AWS":"deploy"},"Action":"sts:AssumeRole"`), `Invalid principal in policy: "AWS":"deploy"`},
		{"AWS principal with wildcard", Trust, stmt(`"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/*"},"Action":"sts:AssumeRole"`), `Invalid principal in policy: "AWS":"arn:aws:iam::123456789012:role/*"`},
		{"AWS principal short account", Trust, stmt(`"Effect":"Allow","Principal":{"AWS":"12345"},"Action":"sts:AssumeRole"`), `Invalid principal in policy: "AWS":"12345"`},
		{"AWS principal lambda ARN", Trust, stmt(`"Effect":"Allow","Principal":{"AWS":"arn:aws:lambda:us-east-1:123456789012:function:f"},"Action":"sts:AssumeRole"`), `Invalid principal in policy: "AWS":"arn:aws:lambda:us-east-1:123456789012:function:f"`},
		{"federated wildcard", Trust, stmt(`"Effect":"Allow","Principal":{"Federated":"*"},"Action":"sts:AssumeRoleWithWebIdentity"`), `Invalid principal in policy: "Federated":"*"`},
		{"service empty", Trust, stmt(`"Effect":"Allow","Principal":{"Service":""},"Action":"sts:AssumeRole"`), `Invalid principal in policy: "Service":""`},
		{"unknown principal type", Trust, stmt(`"Effect":"Allow","Principal":{"CanonicalUser":"79a5"},"Action":"sts:AssumeRole"`), `Invalid principal in policy: "CanonicalUser":"79a5"`},
		{"invalid NotPrincipal value", Trust, stmt(`"Effect":"Deny","NotPrincipal":{"AWS":"x"},"Action":"sts:AssumeRole"`), `Invalid principal in policy: "AWS":"x"`},
		{"resource without principal", Resource, stmt(allowAll), msgMissingPrincipal},
		{"resource without resources", Resource, stmt(`"Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction"`), msgNoResources},
		{"resource NotPrincipal with Allow", Resource, stmt(`"Effect":"Allow","NotPrincipal":{"AWS":"123456789012"},"Action":"*","Resource":"*"`), msgNotPrincipalAllow},
		{"resource invalid principal", Resource, stmt(`"Effect":"Allow","Principal":{"AWS":"orders"},"Action":"*","Resource":"*"`), `Invalid principal in policy: "AWS":"orders"`},
		{"resource duplicate Sid", Resource, `{"Statement":[{"Sid":"s3_2","Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},` +
			`{"Sid":"s3_2","Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`, msgSidUnique},
		{"resource action without vendor", Resource, stmt(`"Effect":"Allow","Principal":"*","Action":"InvokeFunction","Resource":"*"`), msgVendorPrefix},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse(tc.doc, tc.kind)
			var me *MalformedError
			if !errors.As(err, &me) {
				t.Fatalf("Parse = %v, %v; want *MalformedError %q", d, err, tc.want)
			}
			if me.Message != tc.want {
				t.Fatalf("Message = %q, want %q", me.Message, tc.want)
			}
			if got, want := err.Error(), "MalformedPolicyDocument: "+tc.want; got != want {
				t.Fatalf("Error() = %q, want %q", got, want)
			}
		})
	}
}

func TestParseUnknownKind(t *testing.T) {
	if _, err := Parse(`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, Kind(7)); err == nil {
		t.Fatal("Parse with an unknown Kind must fail")
	}
}

func TestParseAcceptsTrustForms(t *testing.T) {
	principals := []string{
		`"*"`,
		`{"AWS":"*"}`,
		`{"AWS":"123456789012"}`,
		`{"AWS":"arn:aws:iam::123456789012:root"}`,
		`{"AWS":"arn:aws:iam::123456789012:user/alice"}`,
		`{"AWS":"arn:aws:iam::123456789012:role/path/to/deploy"}`,
		`{"AWS":"arn:aws:sts::123456789012:assumed-role/deploy/session"}`,
		`{"AWS":"arn:aws:sts::123456789012:federated-user/bob"}`,
		`{"Federated":"cognito-identity.amazonaws.com"}`,
		`{"Federated":"arn:aws:iam::123456789012:saml-provider/okta"}`,
		`{"Service":["lambda.amazonaws.com","codedeploy.amazonaws.com"]}`,
	}
	actions := []string{`"sts:AssumeRole"`, `"sts:assumerolewithwebidentity"`, `"sts:AssumeRole*"`, `"*"`, `["sts:TagSession","sts:SetSourceIdentity"]`}
	for _, p := range principals {
		for _, a := range actions {
			doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":` + p + `,"Action":` + a + `}]}`
			if _, err := Parse(doc, Trust); err != nil {
				t.Errorf("Parse(%s) = %v", doc, err)
			}
		}
	}
}

func TestDocumentString(t *testing.T) {
	cases := []struct {
		name string
		kind Kind
		doc  string
		want string
	}{
		{
			name: "identity",
			kind: Identity,
			doc: `{"Version":"2012-10-17","Id":"x","Statement":{"Sid":"S1","Effect":"Allow","Action":"lambda:*",
				"Resource":"arn:aws:lambda:*:*:function:a<b>&c","Condition":{"StringLike":{"k:b":"v*"},"Bool":{"k:a":true}}}}`,
			want: `{"Version":"2012-10-17","Id":"x","Statement":[{"Sid":"S1","Effect":"Allow","Action":["lambda:*"],` +
				`"Resource":["arn:aws:lambda:*:*:function:a<b>&c"],"Condition":{"Bool":{"k:a":["true"]},"StringLike":{"k:b":["v*"]}}}]}`,
		},
		{
			name: "trust",
			kind: Trust,
			doc: `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"},
				{"Effect":"Deny","NotPrincipal":{"Service":"a.amazonaws.com","AWS":"123456789012"},"NotAction":"sts:TagSession"}]}`,
			want: `{"Statement":[{"Effect":"Allow","Principal":"*","Action":["sts:AssumeRole"]},` +
				`{"Effect":"Deny","NotPrincipal":{"AWS":["123456789012"],"Service":["a.amazonaws.com"]},"NotAction":["sts:TagSession"]}]}`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse(tc.doc, tc.kind)
			if err != nil {
				t.Fatal(err)
			}
			got := d.String()
			if got != tc.want {
				t.Fatalf("String() =\n%s\nwant\n%s", got, tc.want)
			}
			again, err := Parse(got, tc.kind)
			if err != nil {
				t.Fatalf("Parse(String()) = %v", err)
			}
			if again.String() != got {
				t.Fatalf("String() is not stable: %s", again.String())
			}
		})
	}
	var nilDoc *Document
	if got := nilDoc.String(); got != "<nil>" {
		t.Fatalf("nil String() = %q", got)
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{Identity: "Identity", Trust: "Trust", Resource: "Resource", Kind(5): "Kind(5)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"lambda:*","Resource":"*"}}`,
		`{"Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/x"},` +
			`"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"x:sub":"repo:o/r:*"}}}]}`,
		`{"Statement":[{"Effect":"Deny","NotPrincipal":"*","Action":"sts:*","Condition":{"DateLessThan":{"aws:CurrentTime":1}}}]}`,
		`{"Statement":[`, `[]`, `{"Statement":{"Effect":"Allow","Action":[],"Resource":"x"}}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		for _, kind := range []Kind{Identity, Trust} {
			d, err := Parse(doc, kind)
			if err != nil {
				var me *MalformedError
				if !errors.As(err, &me) || me.Message == "" {
					t.Fatalf("Parse error %v is not a *MalformedError with a message", err)
				}
				continue
			}
			canonical := d.String()
			again, err := Parse(canonical, kind)
			if err != nil {
				t.Fatalf("Parse(%q) accepted, but its String() %q is refused: %v", doc, canonical, err)
			}
			if got := again.String(); got != canonical {
				t.Fatalf("String() not stable:\n%s\n%s", canonical, got)
			}
			// Evaluation must not panic on anything Parse accepts.
			Evaluate(Request{Action: "sts:AssumeRole", Resource: "arn:aws:iam::1:role/r",
				Principal: Principal{AWS: []string{"arn:aws:iam::123456789012:root"}},
				Context:   Context{strings.ToUpper("aws:CurrentTime"): {"2020-01-01T00:00:00Z"}}}, d)
		}
	})
}
