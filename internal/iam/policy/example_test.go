package policy_test

import (
	"errors"
	"fmt"

	"github.com/sluice-dev/sluice/internal/iam/policy"
)

func ExampleEvaluate() {
	trust, err := policy.Parse(`{
	  "Version": "2012-10-17",
	  "Statement": {
	    "Effect": "Allow",
	    "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"},
	    "Action": "sts:AssumeRoleWithWebIdentity",
	    "Condition": {
	      "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
	      "StringLike": {"token.actions.githubusercontent.com:sub": "repo:octo-org/octo-repo:*"}
	    }
	  }
	}`, policy.Trust)
	if err != nil {
		panic(err)
	}
	for _, sub := range []string{
		"repo:octo-org/octo-repo:ref:refs/heads/main",
		"repo:octo-org/octo-repo-evil:ref:refs/heads/main",
	} {
		d := policy.Evaluate(policy.Request{
			Action:    "sts:AssumeRoleWithWebIdentity",
			Principal: policy.Principal{Federated: []string{"arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"}},
			Context: policy.Context{
				"token.actions.githubusercontent.com:aud": {"sts.amazonaws.com"},
				"token.actions.githubusercontent.com:sub": {sub},
			},
		}, trust)
		fmt.Println(sub, d)
	}
	// Output:
	// repo:octo-org/octo-repo:ref:refs/heads/main Allow
	// repo:octo-org/octo-repo-evil:ref:refs/heads/main ImplicitDeny
}

func ExampleParse_malformed() {
	_, err := policy.Parse(`{"Statement":{"Effect":"Allow","Principal":"*","Action":"lambda:*","Resource":"*"}}`, policy.Identity)
	var me *policy.MalformedError
	if errors.As(err, &me) {
		fmt.Println(me.Message)
	}
	// Output:
	// Policy document should not specify a principal.
}
