package policy

import (
	"testing"
)

func mustParse(t *testing.T, doc string, kind Kind) *Document {
	t.Helper()
	d, err := Parse(doc, kind)
	if err != nil {
		t.Fatalf("Parse(%s): %v", doc, err)
	}
	return d
}

const (
	account   = "123456789012"
	rootARN   = "arn:aws:iam::123456789012:root"
	githubOP  = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
	audKey    = "token.actions.githubusercontent.com:aud"
	subKey    = "token.actions.githubusercontent.com:sub"
	webAction = "sts:AssumeRoleWithWebIdentity"
	ordersFn  = "arn:aws:lambda:us-east-1:123456789012:function:orders"
)

func TestEvaluateIdentity(t *testing.T) {
	doc := mustParse(t, `{"Version":"2012-10-17","Statement":[
		{"Sid":"Invoke","Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:123456789012:function:orders*"},
		{"Sid":"Update","Effect":"Allow","Action":["lambda:Update*","lambda:Get?unction"],"Resource":"arn:aws:lambda:*:123456789012:function:*"},
		{"Sid":"NoDelete","Effect":"Deny","Action":"lambda:Delete*","Resource":"*"},
		{"Sid":"Logs","Effect":"Allow","Action":"logs:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`, Identity)
	canary := mustParse(t, `{"Statement":{"Effect":"Deny","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:123456789012:function:orders:canary"}}`, Identity)
	broad := mustParse(t, `{"Statement":{"Effect":"Allow","NotAction":"iam:*","NotResource":"arn:aws:s3:::secret*"}}`, Identity)

	cases := []struct {
		name     string
		action   string
		resource string
		ctx      Context
		docs     []*Document
		want     Decision
	}{
		{"exact action", "lambda:InvokeFunction", ordersFn, nil, []*Document{doc}, Allow},
		{"action is case-insensitive", "LAMBDA:invokefunction", ordersFn, nil, []*Document{doc}, Allow},
		{"other action", "lambda:InvokeAsync", ordersFn, nil, []*Document{doc}, ImplicitDeny},
		{"resource star spans colons", "lambda:InvokeFunction", ordersFn + ":live", nil, []*Document{doc}, Allow},
		{"resource prefix", "lambda:InvokeFunction", ordersFn + "-v2", nil, []*Document{doc}, Allow},
		{"resource is case-sensitive", "lambda:InvokeFunction", "arn:aws:lambda:us-east-1:123456789012:function:Orders", nil, []*Document{doc}, ImplicitDeny},
		{"resource other region", "lambda:InvokeFunction", "arn:aws:lambda:us-west-2:123456789012:function:orders", nil, []*Document{doc}, ImplicitDeny},
		{"action wildcard", "lambda:UpdateFunctionCode", "arn:aws:lambda:eu-west-1:123456789012:function:x", nil, []*Document{doc}, Allow},
		{"action wildcard needs the prefix", "lambda:PublishVersion", "arn:aws:lambda:eu-west-1:123456789012:function:x", nil, []*Document{doc}, ImplicitDeny},
		{"question mark", "lambda:GetFunction", "arn:aws:lambda:eu-west-1:123456789012:function:x", nil, []*Document{doc}, Allow},
		{"question mark needs exactly one char", "lambda:GetFFunction", "arn:aws:lambda:eu-west-1:123456789012:function:x", nil, []*Document{doc}, ImplicitDeny},
		{"resource other account", "lambda:UpdateFunctionCode", "arn:aws:lambda:eu-west-1:999999999999:function:x", nil, []*Document{doc}, ImplicitDeny},
		{"deny wins in the same document", "lambda:DeleteFunction", ordersFn, nil, []*Document{doc, broad}, ExplicitDeny},
		{"deny in another document wins", "lambda:InvokeFunction", ordersFn + ":canary", nil, []*Document{doc, canary}, ExplicitDeny},
		{"deny order does not matter", "lambda:InvokeFunction", ordersFn + ":canary", nil, []*Document{canary, doc}, ExplicitDeny},
		{"deny for another resource does not apply", "lambda:InvokeFunction", ordersFn + ":live", nil, []*Document{canary, doc}, Allow},
		{"NotAction allows other actions", "lambda:PublishVersion", ordersFn, nil, []*Document{broad}, Allow},
		{"NotAction excludes", "iam:CreateRole", "arn:aws:iam::123456789012:role/x", nil, []*Document{broad}, ImplicitDeny},
		{"NotAction is case-insensitive", "IAM:PassRole", "arn:aws:iam::123456789012:role/x", nil, []*Document{broad}, ImplicitDeny},
		{"NotResource excludes", "s3:PutObject", "arn:aws:s3:::secrets/a", nil, []*Document{broad}, ImplicitDeny},
		{"NotResource is case-sensitive", "s3:PutObject", "arn:aws:s3:::SECRETS/a", nil, []*Document{broad}, Allow},
		{"condition met", "logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:g", Context{"aws:SourceIp": {"10.1.2.3"}}, []*Document{doc}, Allow},
		{"condition not met", "logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:g", Context{"aws:SourceIp": {"192.0.2.1"}}, []*Document{doc}, ImplicitDeny},
		{"condition key absent", "logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:g", nil, []*Document{doc}, ImplicitDeny},
		{"no documents", "lambda:InvokeFunction", ordersFn, nil, nil, ImplicitDeny},
		{"nil document skipped", "lambda:InvokeFunction", ordersFn, nil, []*Document{nil, doc}, Allow},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := Request{Action: tc.action, Resource: tc.resource, Context: tc.ctx,
				Principal: Principal{AWS: []string{"arn:aws:iam::123456789012:role/fn", rootARN}}}
			if got := Evaluate(req, tc.docs...); got != tc.want {
				t.Fatalf("Evaluate(%s on %s) = %v, want %v", tc.action, tc.resource, got, tc.want)
			}
		})
	}
}

// TestEvaluatePolicyVariables checks that variables are compared as text and
// that ${*} is a literal star in Resource under 2012-10-17 and plain text
// under older versions.
func TestEvaluatePolicyVariables(t *testing.T) {
	const body = `"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":["arn:aws:s3:::b/${*}","arn:aws:s3:::home/${aws:username}/*"]}`
	cases := []struct {
		version, resource string
		want              Decision
	}{
		{`"Version":"2012-10-17",`, "arn:aws:s3:::b/*", Allow},
		{`"Version":"2012-10-17",`, "arn:aws:s3:::b/x", ImplicitDeny},
		{`"Version":"2008-10-17",`, "arn:aws:s3:::b/${x}", Allow},
		{``, "arn:aws:s3:::b/${anything}", Allow},
		{``, "arn:aws:s3:::b/*", ImplicitDeny},
		{`"Version":"2012-10-17",`, "arn:aws:s3:::home/${aws:username}/f", Allow},
		{`"Version":"2012-10-17",`, "arn:aws:s3:::home/alice/f", ImplicitDeny},
	}
	for _, tc := range cases {
		d := mustParse(t, `{`+tc.version+body+`}`, Identity)
		if got := Evaluate(Request{Action: "s3:GetObject", Resource: tc.resource}, d); got != tc.want {
			t.Errorf("%s %s: got %v, want %v", tc.version, tc.resource, got, tc.want)
		}
	}
}

// githubTrust is the trust policy idiom from the GitHub OIDC documentation,
// plus a Deny on pull requests and a NotAction statement.
const githubTrust = `{"Version":"2012-10-17","Statement":[
	{"Sid":"GitHubMain","Effect":"Allow",
	 "Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},
	 "Action":"sts:AssumeRoleWithWebIdentity",
	 "Condition":{
	   "StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"},
	   "StringLike":{"token.actions.githubusercontent.com:sub":["repo:octo-org/octo-repo:ref:refs/heads/main","repo:octo-org/octo-repo:environment:prod"]}}},
	{"Sid":"GitHubAnyRef","Effect":"Allow",
	 "Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},
	 "Action":"sts:AssumeRoleWithWebIdentity",
	 "Condition":{
	   "StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"},
	   "StringLike":{"token.actions.githubusercontent.com:sub":"repo:octo-org/tools:*"}}},
	{"Sid":"NoPullRequests","Effect":"Deny",
	 "Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},
	 "Action":"sts:AssumeRoleWithWebIdentity",
	 "Condition":{"StringLike":{"token.actions.githubusercontent.com:sub":"*:pull_request"}}},
	{"Sid":"TagOnly","Effect":"Allow","Principal":{"Service":"codedeploy.amazonaws.com"},"NotAction":["sts:AssumeRole*"]}]}`

func TestEvaluateGitHubTrust(t *testing.T) {
	doc := mustParse(t, githubTrust, Trust)
	github := Principal{Federated: []string{githubOP}}
	claims := func(aud, sub string) Context {
		c := Context{}
		if aud != "" {
			c[audKey] = []string{aud}
		}
		if sub != "" {
			c[subKey] = []string{sub}
		}
		return c
	}
	const aud = "sts.amazonaws.com"
	cases := []struct {
		name      string
		principal Principal
		action    string
		ctx       Context
		want      Decision
	}{
		{"main branch", github, webAction, claims(aud, "repo:octo-org/octo-repo:ref:refs/heads/main"), Allow},
		{"action is case-insensitive", github, "STS:assumerolewithwebidentity", claims(aud, "repo:octo-org/octo-repo:ref:refs/heads/main"), Allow},
		{"environment is the second listed value", github, webAction, claims(aud, "repo:octo-org/octo-repo:environment:prod"), Allow},
		{"other branch", github, webAction, claims(aud, "repo:octo-org/octo-repo:ref:refs/heads/dev"), ImplicitDeny},
		{"branch prefix", github, webAction, claims(aud, "repo:octo-org/octo-repo:ref:refs/heads/main-old"), ImplicitDeny},
		{"tag", github, webAction, claims(aud, "repo:octo-org/octo-repo:ref:refs/tags/v1"), ImplicitDeny},
		{"other repo", github, webAction, claims(aud, "repo:octo-org/other:ref:refs/heads/main"), ImplicitDeny},
		{"other org", github, webAction, claims(aud, "repo:evil-org/octo-repo:ref:refs/heads/main"), ImplicitDeny},
		{"sub is case-sensitive", github, webAction, claims(aud, "repo:Octo-Org/octo-repo:ref:refs/heads/main"), ImplicitDeny},
		{"wildcard any branch", github, webAction, claims(aud, "repo:octo-org/tools:ref:refs/heads/feature/x"), Allow},
		{"wildcard environment", github, webAction, claims(aud, "repo:octo-org/tools:environment:staging"), Allow},
		{"wildcard repo prefix trick", github, webAction, claims(aud, "repo:octo-org/tools-evil:ref:refs/heads/main"), ImplicitDeny},
		{"wildcard repo suffix trick", github, webAction, claims(aud, "repo:octo-org/toolsx:ref:refs/heads/main"), ImplicitDeny},
		{"wrong aud", github, webAction, claims("https://github.com/octo-org", "repo:octo-org/octo-repo:ref:refs/heads/main"), ImplicitDeny},
		{"aud is case-sensitive", github, webAction, claims("STS.amazonaws.com", "repo:octo-org/octo-repo:ref:refs/heads/main"), ImplicitDeny},
		{"aud absent", github, webAction, claims("", "repo:octo-org/octo-repo:ref:refs/heads/main"), ImplicitDeny},
		{"sub absent", github, webAction, claims(aud, ""), ImplicitDeny},
		{"no claims", github, webAction, nil, ImplicitDeny},
		{"multi-valued aud", github, webAction, Context{audKey: {"other", aud}, subKey: {"repo:octo-org/octo-repo:ref:refs/heads/main"}}, Allow},
		{"condition keys are case-insensitive", github, webAction,
			Context{"Token.Actions.GitHubUserContent.com:AUD": {aud}, "TOKEN.actions.githubusercontent.com:Sub": {"repo:octo-org/octo-repo:ref:refs/heads/main"}}, Allow},
		{"pull request denied although wildcard allows it", github, webAction, claims(aud, "repo:octo-org/tools:pull_request"), ExplicitDeny},
		{"pull request denied without audience", github, webAction, claims("", "repo:octo-org/octo-repo:pull_request"), ExplicitDeny},
		{"other provider", Principal{Federated: []string{"arn:aws:iam::123456789012:oidc-provider/gitlab.com"}}, webAction,
			claims(aud, "repo:octo-org/octo-repo:ref:refs/heads/main"), ImplicitDeny},
		{"provider in other account", Principal{Federated: []string{"arn:aws:iam::999999999999:oidc-provider/token.actions.githubusercontent.com"}},
			webAction, claims(aud, "repo:octo-org/octo-repo:ref:refs/heads/main"), ImplicitDeny},
		{"IAM principal of the account", Principal{AWS: []string{rootARN}}, webAction, claims(aud, "repo:octo-org/octo-repo:ref:refs/heads/main"), ImplicitDeny},
		{"anonymous", Principal{}, webAction, claims(aud, "repo:octo-org/octo-repo:ref:refs/heads/main"), ImplicitDeny},
		{"wrong action", github, "sts:AssumeRole", claims(aud, "repo:octo-org/octo-repo:ref:refs/heads/main"), ImplicitDeny},
		{"NotAction allows others", Principal{Service: []string{"codedeploy.amazonaws.com"}}, "sts:TagSession", nil, Allow},
		{"NotAction excludes listed", Principal{Service: []string{"codedeploy.amazonaws.com"}}, "sts:AssumeRole", nil, ImplicitDeny},
		{"NotAction excludes wildcard match", Principal{Service: []string{"codedeploy.amazonaws.com"}}, "sts:assumerolewithsaml", nil, ImplicitDeny},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := Request{Action: tc.action, Principal: tc.principal, Context: tc.ctx}
			if got := Evaluate(req, doc); got != tc.want {
				t.Fatalf("Evaluate = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestEvaluateTrustPrincipals(t *testing.T) {
	role := "arn:aws:iam::123456789012:role/deploy"
	session := "arn:aws:sts::123456789012:assumed-role/deploy/ci"
	otherRole := "arn:aws:iam::210987654321:role/deploy"
	otherRoot := "arn:aws:iam::210987654321:root"
	trust := func(principal string) string {
		return `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":` + principal + `,"Action":"sts:AssumeRole"}}`
	}
	// Every NotPrincipal case also has an Allow for everyone, so the
	// decision shows whether the Deny applied.
	notPrincipal := func(np string) string {
		return `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"},
			{"Effect":"Deny","NotPrincipal":` + np + `,"Action":"sts:AssumeRole"}]}`
	}
	cases := []struct {
		name   string
		doc    string
		caller Principal
		want   Decision
	}{
		{"star matches an IAM role", trust(`"*"`), Principal{AWS: []string{role, rootARN}}, Allow},
		{"star matches a service", trust(`"*"`), Principal{Service: []string{"lambda.amazonaws.com"}}, Allow},
		{"star matches anonymous", trust(`"*"`), Principal{}, Allow},
		{"AWS star matches anyone", trust(`{"AWS":"*"}`), Principal{Federated: []string{githubOP}}, Allow},
		{"account ID matches its role", trust(`{"AWS":"123456789012"}`), Principal{AWS: []string{role}}, Allow},
		{"account ID matches its session", trust(`{"AWS":"123456789012"}`), Principal{AWS: []string{session}}, Allow},
		{"account ID matches bare ID", trust(`{"AWS":"123456789012"}`), Principal{AWS: []string{account}}, Allow},
		{"account ID other account", trust(`{"AWS":"123456789012"}`), Principal{AWS: []string{otherRole, otherRoot}}, ImplicitDeny},
		{"root ARN matches its role", trust(`{"AWS":"arn:aws:iam::123456789012:root"}`), Principal{AWS: []string{role}}, Allow},
		{"root ARN other account", trust(`{"AWS":"arn:aws:iam::123456789012:root"}`), Principal{AWS: []string{otherRole}}, ImplicitDeny},
		{"role ARN exact", trust(`{"AWS":"` + role + `"}`), Principal{AWS: []string{role, rootARN}}, Allow},
		{"role ARN other role same account", trust(`{"AWS":"` + role + `"}`),
			Principal{AWS: []string{"arn:aws:iam::123456789012:role/other", rootARN}}, ImplicitDeny},
		{"role ARN same name other account", trust(`{"AWS":"` + role + `"}`), Principal{AWS: []string{otherRole, otherRoot}}, ImplicitDeny},
		{"role ARN does not match the account", trust(`{"AWS":"` + role + `"}`), Principal{AWS: []string{rootARN}}, ImplicitDeny},
		{"list of AWS principals", trust(`{"AWS":["210987654321","` + role + `"]}`), Principal{AWS: []string{otherRole}}, Allow},
		{"service exact", trust(`{"Service":"lambda.amazonaws.com"}`), Principal{Service: []string{"lambda.amazonaws.com"}}, Allow},
		{"service other", trust(`{"Service":"lambda.amazonaws.com"}`), Principal{Service: []string{"edgelambda.amazonaws.com"}}, ImplicitDeny},
		{"service does not match an AWS caller", trust(`{"Service":"lambda.amazonaws.com"}`), Principal{AWS: []string{role}}, ImplicitDeny},
		{"federated name", trust(`{"Federated":"cognito-identity.amazonaws.com"}`), Principal{Federated: []string{"cognito-identity.amazonaws.com"}}, Allow},
		{"federated ARN does not match the account", trust(`{"Federated":"` + githubOP + `"}`), Principal{AWS: []string{rootARN}}, ImplicitDeny},
		{"mixed principal types OR", trust(`{"Service":"lambda.amazonaws.com","AWS":"210987654321"}`), Principal{AWS: []string{otherRoot}}, Allow},

		{"NotPrincipal excluded role and account", notPrincipal(`{"AWS":["` + role + `","` + rootARN + `"]}`), Principal{AWS: []string{role, rootARN}}, Allow},
		{"NotPrincipal account excludes its roles", notPrincipal(`{"AWS":"123456789012"}`), Principal{AWS: []string{role, rootARN}}, Allow},
		{"NotPrincipal role alone still denies it", notPrincipal(`{"AWS":"` + role + `"}`), Principal{AWS: []string{role, rootARN}}, ExplicitDeny},
		{"NotPrincipal other caller denied", notPrincipal(`{"AWS":"123456789012"}`), Principal{AWS: []string{otherRole, otherRoot}}, ExplicitDeny},
		{"NotPrincipal service excluded", notPrincipal(`{"Service":"lambda.amazonaws.com"}`), Principal{Service: []string{"lambda.amazonaws.com"}}, Allow},
		{"NotPrincipal service other", notPrincipal(`{"Service":"lambda.amazonaws.com"}`), Principal{Service: []string{"s3.amazonaws.com"}}, ExplicitDeny},
		{"NotPrincipal anonymous denied", notPrincipal(`{"AWS":"123456789012"}`), Principal{}, ExplicitDeny},
		{"NotPrincipal star excludes everyone", notPrincipal(`"*"`), Principal{}, Allow},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := mustParse(t, tc.doc, Trust)
			if got := Evaluate(Request{Action: "sts:AssumeRole", Principal: tc.caller}, doc); got != tc.want {
				t.Fatalf("Evaluate = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestEvaluateResourcePolicy evaluates a Lambda function's resource-based
// policy as AddPermission writes it, for the callers a function URL or the
// Lambda API brings: services with a source, anonymous callers, roles and
// their sessions, users and the account root.
func TestEvaluateResourcePolicy(t *testing.T) {
	role := "arn:aws:iam::123456789012:role/orders"
	session := "arn:aws:sts::123456789012:assumed-role/orders/s1"
	user := "arn:aws:iam::123456789012:user/alice"
	doc := mustParse(t, `{"Version":"2012-10-17","Id":"default","Statement":[
		{"Sid":"s3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"`+ordersFn+`",
		 "Condition":{"StringEquals":{"AWS:SourceAccount":"123456789012"},"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::uploads"}}},
		{"Sid":"url","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunctionUrl","Resource":"`+ordersFn+`",
		 "Condition":{"StringEquals":{"lambda:FunctionUrlAuthType":"NONE"}}},
		{"Sid":"viaUrl","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"`+ordersFn+`",
		 "Condition":{"Bool":{"lambda:InvokedViaFunctionUrl":"true"}}},
		{"Sid":"role","Effect":"Allow","Principal":{"AWS":"`+role+`"},"Action":"lambda:GetFunction","Resource":"`+ordersFn+`"},
		{"Sid":"account","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"lambda:*","Resource":"`+ordersFn+`"},
		{"Sid":"alexa","Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"`+ordersFn+`",
		 "Condition":{"StringEquals":{"lambda:EventSourceToken":"amzn1.ask.skill.1"}}}]}`, Resource)
	s3 := Principal{Service: []string{"s3.amazonaws.com"}}
	source := Context{"aws:SourceArn": {"arn:aws:s3:::uploads"}, "aws:SourceAccount": {account}}
	cases := []struct {
		name     string
		caller   Principal
		action   string
		resource string
		ctx      Context
		want     Decision
	}{
		{"service with its source", s3, "lambda:InvokeFunction", ordersFn, source, Allow},
		{"service with another bucket", s3, "lambda:InvokeFunction", ordersFn, Context{"aws:SourceArn": {"arn:aws:s3:::other"}, "aws:SourceAccount": {account}}, ImplicitDeny},
		{"service without a source", s3, "lambda:InvokeFunction", ordersFn, nil, ImplicitDeny},
		{"other service with the source", Principal{Service: []string{"sns.amazonaws.com"}}, "lambda:InvokeFunction", ordersFn, source, ImplicitDeny},
		{"service on a version", s3, "lambda:InvokeFunction", ordersFn + ":1", source, ImplicitDeny},
		{"anonymous URL call with auth type NONE", Principal{}, "lambda:InvokeFunctionUrl", ordersFn, Context{"lambda:FunctionUrlAuthType": {"NONE"}}, Allow},
		{"anonymous URL call with auth type AWS_IAM", Principal{}, "lambda:InvokeFunctionUrl", ordersFn, Context{"lambda:FunctionUrlAuthType": {"AWS_IAM"}}, ImplicitDeny},
		{"anonymous URL call without auth type", Principal{}, "lambda:InvokeFunctionUrl", ordersFn, nil, ImplicitDeny},
		{"anonymous invoke through the URL", Principal{}, "lambda:InvokeFunction", ordersFn, Context{"lambda:InvokedViaFunctionUrl": {"true"}}, Allow},
		{"anonymous invoke not through the URL", Principal{}, "lambda:InvokeFunction", ordersFn, Context{"lambda:InvokedViaFunctionUrl": {"false"}}, ImplicitDeny},
		{"anonymous invoke", Principal{}, "lambda:InvokeFunction", ordersFn, nil, ImplicitDeny},
		{"anonymous with the skill token", Principal{}, "lambda:InvokeFunction", ordersFn, Context{"lambda:EventSourceToken": {"amzn1.ask.skill.1"}}, Allow},
		{"role named", Principal{AWS: []string{role}}, "lambda:GetFunction", ordersFn, nil, Allow},
		{"role session matched by its role", Principal{AWS: []string{session, role}}, "lambda:GetFunction", ordersFn, nil, Allow},
		{"role named for another action", Principal{AWS: []string{session, role}}, "lambda:DeleteFunction", ordersFn, nil, ImplicitDeny},
		{"account principal does not grant a user", Principal{AWS: []string{user}}, "lambda:DeleteFunction", ordersFn, nil, ImplicitDeny},
		{"account principal does not grant a session", Principal{AWS: []string{session, role}}, "lambda:UpdateFunctionCode", ordersFn, nil, ImplicitDeny},
		{"account principal grants the root", Principal{AWS: []string{rootARN}}, "lambda:DeleteFunction", ordersFn, nil, Allow},
		{"account principal grants the bare account", Principal{AWS: []string{account}}, "lambda:DeleteFunction", ordersFn, nil, Allow},
		{"another account's root", Principal{AWS: []string{"arn:aws:iam::210987654321:root"}}, "lambda:DeleteFunction", ordersFn, nil, ImplicitDeny},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := Request{Action: tc.action, Resource: tc.resource, Principal: tc.caller, Context: tc.ctx}
			if got := Evaluate(req, doc); got != tc.want {
				t.Fatalf("Evaluate = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestEvaluateHandBuilt pins the documented behaviour for documents that did
// not come from Parse.
func TestEvaluateHandBuilt(t *testing.T) {
	req := Request{Action: "lambda:InvokeFunction", Resource: ordersFn}
	cases := []struct {
		name string
		st   Statement
		want Decision
	}{
		{"no action element matches nothing", Statement{Effect: EffectAllow, Resource: []string{"*"}}, ImplicitDeny},
		{"no resource element matches everything", Statement{Effect: EffectAllow, Action: []string{"*"}}, Allow},
		{"unknown effect never applies", Statement{Effect: "allow", Action: []string{"*"}}, ImplicitDeny},
		{"unknown operator never holds", Statement{Effect: EffectAllow, Action: []string{"*"},
			Condition: []Condition{{Operator: "Nope", Key: "k:k", Values: []string{"v"}}}}, ImplicitDeny},
		{"empty condition list holds", Statement{Effect: EffectAllow, Action: []string{"*"}, Condition: []Condition{}}, Allow},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Evaluate(req, &Document{Statements: []Statement{tc.st}}); got != tc.want {
				t.Fatalf("Evaluate = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestEvaluateDoesNotModifyContext(t *testing.T) {
	ctx := Context{"k:a": {"1"}, "K:A": {"2"}}
	doc := mustParse(t, `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"k:a":"2"}}}}`, Identity)
	if got := Evaluate(Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b", Context: ctx}, doc); got != Allow {
		t.Fatalf("Evaluate = %v, want Allow", got)
	}
	if len(ctx) != 2 || len(ctx["k:a"]) != 1 || ctx["k:a"][0] != "1" || len(ctx["K:A"]) != 1 {
		t.Fatalf("context was modified: %v", ctx)
	}
}

func TestDecisionString(t *testing.T) {
	for d, want := range map[Decision]string{ImplicitDeny: "ImplicitDeny", Allow: "Allow", ExplicitDeny: "ExplicitDeny", Decision(9): "Decision(9)"} {
		if got := d.String(); got != want {
			t.Errorf("Decision(%d).String() = %q, want %q", int(d), got, want)
		}
	}
}
