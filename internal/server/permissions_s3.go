package server

import (
	"context"
	"strings"

	"github.com/sluice-dev/sluice/internal/iam/policy"
	"github.com/sluice-dev/sluice/internal/s3/buckets"
)

// resourcePolicies answers iam's question for every service with resource-based policies: Lambda's functions,
// versions and aliases, S3's buckets and SNS's topics.
type resourcePolicies struct {
	lambda  functionPolicies
	buckets bucketPolicies
	topics  topicPolicies
}

func (p resourcePolicies) ResourcePolicyAllows(ctx context.Context, principal, action, resource string, conditions map[string]string) (bool, error) {
	if strings.HasPrefix(action, "s3:") {
		return p.buckets.decide(ctx, principal, action, resource, conditions, policy.Allow)
	}
	if strings.HasPrefix(action, "sns:") {
		return p.topics.decide(ctx, principal, action, resource, conditions, policy.Allow)
	}
	return p.lambda.ResourcePolicyAllows(ctx, principal, action, resource, conditions)
}

func (p resourcePolicies) ResourcePolicyDenies(ctx context.Context, principal, action, resource string, conditions map[string]string) (bool, error) {
	if strings.HasPrefix(action, "s3:") {
		return p.buckets.decide(ctx, principal, action, resource, conditions, policy.ExplicitDeny)
	}
	if strings.HasPrefix(action, "sns:") {
		return p.topics.decide(ctx, principal, action, resource, conditions, policy.ExplicitDeny)
	}
	return false, nil
}

// bucketPolicies evaluates a bucket's policy for an S3 action on the bucket ("arn:aws:s3:::b") or one of its
// objects ("arn:aws:s3:::b/key").
type bucketPolicies struct{ svc *buckets.Service }

func (p bucketPolicies) decide(ctx context.Context, principal, action, resource string, conditions map[string]string, want policy.Decision) (bool, error) {
	rest, ok := strings.CutPrefix(resource, "arn:aws:s3:::")
	if !ok || rest == "" {
		return false, nil
	}
	bucket, _, _ := strings.Cut(rest, "/")
	doc, err := p.svc.BucketPolicy(ctx, bucket)
	if err != nil || doc == nil {
		return false, err
	}
	return resourcePolicyDecides(doc, principal, action, resource, conditions, want), nil
}

// principalOf is who a caller is to a bucket policy: its ARN, and for an assumed-role session its role's too.
func principalOf(principal string) policy.Principal {
	if principal == "" {
		return policy.Principal{}
	}
	ids := []string{principal}
	parts := strings.SplitN(principal, ":", 6)
	if len(parts) == 6 && parts[2] == "sts" {
		if rest, ok := strings.CutPrefix(parts[5], "assumed-role/"); ok {
			role, _, _ := strings.Cut(rest, "/")
			ids = append(ids, "arn:"+parts[1]+":iam::"+parts[4]+":role/"+role)
		}
	}
	return policy.Principal{AWS: ids}
}

// resourcePolicyDecides reports whether a resource's own policy (a bucket's, a topic's) comes to want for the call:
// the caller as its principal (principalOf), the request's condition keys that have a value.
func resourcePolicyDecides(doc *policy.Document, principal, action, resource string, conditions map[string]string, want policy.Decision) bool {
	var c policy.Context
	for k, v := range conditions {
		if v != "" {
			if c == nil {
				c = policy.Context{}
			}
			c[k] = []string{v}
		}
	}
	return policy.Evaluate(policy.Request{Action: action, Resource: resource, Principal: principalOf(principal), Context: c}, doc) == want
}
