package stackdeploy

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/sluice-dev/sluice/internal/cfn"
	"github.com/sluice-dev/sluice/internal/stack"
)

// ---- AWS::S3::Bucket ----

// bucketHandler makes a bucket in Sluice's S3 and keeps its versioning, default encryption, public access block,
// lifecycle rules and tags those of the template. Lifecycle rules and encryption are recorded by S3 as on AWS (S3
// answers them back); Sluice's S3 does not expire objects by them.
type bucketHandler struct{}

// bucketProps are AWS::S3::Bucket's properties Sluice takes, in CloudFormation's shapes (not S3's: a lifecycle
// rule's ExpirationInDays is S3's Expiration.Days). decodeInto refuses any other property by name.
type bucketProps struct {
	BucketName              *string
	AccessControl           *string
	VersioningConfiguration *struct{ Status string }
	BucketEncryption        *struct {
		ServerSideEncryptionConfiguration []struct {
			ServerSideEncryptionByDefault *struct {
				SSEAlgorithm   string
				KMSMasterKeyID *string
			}
			BucketKeyEnabled *bool
		}
	}
	PublicAccessBlockConfiguration *struct {
		BlockPublicAcls, BlockPublicPolicy, IgnorePublicAcls, RestrictPublicBuckets *bool
	}
	LifecycleConfiguration *struct{ Rules []lifecycleRule }
	Tags                   []struct{ Key, Value string }
}

// lifecycleRule is CloudFormation's AWS::S3::Bucket Rule.
type lifecycleRule struct {
	Id                                *string
	Status                            string
	Prefix                            *string
	TagFilters                        []struct{ Key, Value string }
	ObjectSizeGreaterThan             *int64
	ObjectSizeLessThan                *int64
	ExpirationInDays                  *int32
	ExpirationDate                    *string
	ExpiredObjectDeleteMarker         *bool
	NoncurrentVersionExpirationInDays *int32
	NoncurrentVersionExpiration       *struct{ NoncurrentDays, NewerNoncurrentVersions *int32 }
	AbortIncompleteMultipartUpload    *struct{ DaysAfterInitiation *int32 }
	Transitions                       []transition
	Transition                        *transition
	NoncurrentVersionTransitions      []noncurrentTransition
	NoncurrentVersionTransition       *noncurrentTransition
}

type transition struct {
	StorageClass     string
	TransitionInDays *int32
	TransitionDate   *string
}

type noncurrentTransition struct {
	StorageClass            string
	TransitionInDays        *int32
	NewerNoncurrentVersions *int32
}

func decodeBucket(props map[string]any) (*bucketProps, error) {
	var p bucketProps
	if err := decodeInto(props, &p); err != nil {
		return nil, err
	}
	if p.AccessControl != nil && *p.AccessControl != "Private" {
		return nil, fmt.Errorf("AccessControl %s is not supported: Sluice's S3 has no ACLs, every bucket is private (grant access with a bucket policy)", *p.AccessControl)
	}
	if v := p.VersioningConfiguration; v != nil && v.Status != "Enabled" && v.Status != "Suspended" {
		return nil, fmt.Errorf("VersioningConfiguration.Status must be Enabled or Suspended, not %q", v.Status)
	}
	if e := p.BucketEncryption; e != nil {
		if len(e.ServerSideEncryptionConfiguration) == 0 {
			return nil, errors.New("BucketEncryption.ServerSideEncryptionConfiguration needs a rule")
		}
		for i, r := range e.ServerSideEncryptionConfiguration {
			if r.ServerSideEncryptionByDefault == nil {
				return nil, fmt.Errorf("BucketEncryption.ServerSideEncryptionConfiguration[%d]: ServerSideEncryptionByDefault is required", i)
			}
		}
	}
	if _, err := lifecycleOf(&p); err != nil {
		return nil, err
	}
	return &p, nil
}

func (bucketHandler) check(r *run, id string, _ *cfn.Resource) error {
	props, err := r.resolved(id, placeholderRefs{})
	if err != nil {
		return err
	}
	_, err = decodeBucket(props)
	return err
}

// bucketName makes the name CloudFormation gives a bucket the template does not name: <stack>-<logical id>-<random>,
// lowercase (bucket names are), at most 63 characters.
func bucketName(stackName, logicalID string) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 13)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	prefix := strings.ToLower(stackName + "-" + logicalID)
	if len(prefix) > 63-len(b)-1 {
		prefix = strings.TrimRight(prefix[:63-len(b)-1], "-")
	}
	return prefix + "-" + string(b)
}

// bucketAttrs are AWS::S3::Bucket's Fn::GetAtt values, as AWS spells them for a bucket in region.
func bucketAttrs(name, region string) map[string]string {
	website := "s3-website." + region
	switch region { // the regions whose website endpoints keep the older dash form
	case "us-east-1", "us-west-1", "us-west-2", "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "eu-west-1", "sa-east-1", "us-gov-west-1":
		website = "s3-website-" + region
	}
	return map[string]string{
		"Arn":                 "arn:aws:s3:::" + name,
		"DomainName":          name + ".s3.amazonaws.com",
		"RegionalDomainName":  name + ".s3." + region + ".amazonaws.com",
		"DualStackDomainName": name + ".s3.dualstack." + region + ".amazonaws.com",
		"WebsiteURL":          "http://" + name + "." + website + ".amazonaws.com",
	}
}

func (h bucketHandler) create(ctx context.Context, r *run, res *resource) error {
	p, err := decodeBucket(res.props)
	if err != nil {
		return err
	}
	name := aws.ToString(p.BucketName)
	if name == "" {
		name = bucketName(r.o.StackName, res.id)
	}
	in := &s3.CreateBucketInput{Bucket: aws.String(name)}
	if r.region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(r.region)}
	}
	if _, err := r.s3.CreateBucket(ctx, in); err != nil {
		return err
	}
	if err := applyBucket(ctx, r, name, &bucketProps{}, p); err != nil {
		// The bucket is new and empty: take it away again rather than leave one the stack does not know.
		_, _ = r.s3.DeleteBucket(context.WithoutCancel(ctx), &s3.DeleteBucketInput{Bucket: aws.String(name)})
		return err
	}
	res.physicalID, res.attrs = name, bucketAttrs(name, r.region)
	return nil
}

// applyBucket brings a bucket's configuration from had's to want's: what want sets is put, what only had set is
// removed (versioning, which a bucket cannot lose once enabled, is suspended).
func applyBucket(ctx context.Context, r *run, name string, had, want *bucketProps) error {
	bucket := aws.String(name)
	switch {
	case want.VersioningConfiguration != nil:
		if had.VersioningConfiguration == nil || had.VersioningConfiguration.Status != want.VersioningConfiguration.Status {
			if _, err := r.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: bucket,
				VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatus(want.VersioningConfiguration.Status)}}); err != nil {
				return err
			}
		}
	case had.VersioningConfiguration != nil && had.VersioningConfiguration.Status == "Enabled":
		if _, err := r.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: bucket,
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusSuspended}}); err != nil {
			return err
		}
	}
	if enc := encryptionOf(want); enc != nil {
		if _, err := r.s3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: bucket, ServerSideEncryptionConfiguration: enc}); err != nil {
			return err
		}
	} else if had.BucketEncryption != nil {
		if _, err := r.s3.DeleteBucketEncryption(ctx, &s3.DeleteBucketEncryptionInput{Bucket: bucket}); err != nil {
			return err
		}
	}
	if pab := want.PublicAccessBlockConfiguration; pab != nil {
		if _, err := r.s3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: bucket, PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
			BlockPublicAcls: pab.BlockPublicAcls, BlockPublicPolicy: pab.BlockPublicPolicy, IgnorePublicAcls: pab.IgnorePublicAcls,
			RestrictPublicBuckets: pab.RestrictPublicBuckets}}); err != nil {
			return err
		}
	} else if had.PublicAccessBlockConfiguration != nil {
		if _, err := r.s3.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: bucket}); err != nil {
			return err
		}
	}
	rules, err := lifecycleOf(want)
	if err != nil {
		return err
	}
	if len(rules) > 0 {
		if _, err := r.s3.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: bucket,
			LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: rules}}); err != nil {
			return err
		}
	} else if had.LifecycleConfiguration != nil {
		if _, err := r.s3.DeleteBucketLifecycle(ctx, &s3.DeleteBucketLifecycleInput{Bucket: bucket}); err != nil {
			return err
		}
	}
	if len(want.Tags) > 0 {
		set := make([]s3types.Tag, 0, len(want.Tags))
		for _, t := range want.Tags {
			set = append(set, s3types.Tag{Key: aws.String(t.Key), Value: aws.String(t.Value)})
		}
		if _, err := r.s3.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: bucket, Tagging: &s3types.Tagging{TagSet: set}}); err != nil {
			return err
		}
	} else if len(had.Tags) > 0 {
		if _, err := r.s3.DeleteBucketTagging(ctx, &s3.DeleteBucketTaggingInput{Bucket: bucket}); err != nil {
			return err
		}
	}
	return nil
}

// encryptionOf is the template's default encryption in S3's shape (nil: none).
func encryptionOf(p *bucketProps) *s3types.ServerSideEncryptionConfiguration {
	if p.BucketEncryption == nil {
		return nil
	}
	out := &s3types.ServerSideEncryptionConfiguration{}
	for _, r := range p.BucketEncryption.ServerSideEncryptionConfiguration {
		out.Rules = append(out.Rules, s3types.ServerSideEncryptionRule{BucketKeyEnabled: r.BucketKeyEnabled,
			ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{
				SSEAlgorithm: s3types.ServerSideEncryption(r.ServerSideEncryptionByDefault.SSEAlgorithm), KMSMasterKeyID: r.ServerSideEncryptionByDefault.KMSMasterKeyID}})
	}
	return out
}

// lifecycleOf turns CloudFormation's lifecycle rules into S3's.
func lifecycleOf(p *bucketProps) ([]s3types.LifecycleRule, error) {
	if p.LifecycleConfiguration == nil {
		return nil, nil
	}
	var out []s3types.LifecycleRule
	for i, c := range p.LifecycleConfiguration.Rules {
		where := fmt.Sprintf("LifecycleConfiguration.Rules[%d]", i)
		if c.Status != "Enabled" && c.Status != "Disabled" {
			return nil, fmt.Errorf("%s.Status must be Enabled or Disabled, not %q", where, c.Status)
		}
		rule := s3types.LifecycleRule{ID: c.Id, Status: s3types.ExpirationStatus(c.Status), Filter: filterOf(c)}
		if c.ExpirationInDays != nil || c.ExpirationDate != nil || c.ExpiredObjectDeleteMarker != nil {
			exp := &s3types.LifecycleExpiration{Days: c.ExpirationInDays, ExpiredObjectDeleteMarker: c.ExpiredObjectDeleteMarker}
			if c.ExpirationDate != nil {
				t, err := lifecycleDate(*c.ExpirationDate)
				if err != nil {
					return nil, fmt.Errorf("%s.ExpirationDate: %w", where, err)
				}
				exp.Date = &t
			}
			rule.Expiration = exp
		}
		switch {
		case c.NoncurrentVersionExpiration != nil:
			rule.NoncurrentVersionExpiration = &s3types.NoncurrentVersionExpiration{NoncurrentDays: c.NoncurrentVersionExpiration.NoncurrentDays,
				NewerNoncurrentVersions: c.NoncurrentVersionExpiration.NewerNoncurrentVersions}
		case c.NoncurrentVersionExpirationInDays != nil:
			rule.NoncurrentVersionExpiration = &s3types.NoncurrentVersionExpiration{NoncurrentDays: c.NoncurrentVersionExpirationInDays}
		}
		if c.AbortIncompleteMultipartUpload != nil {
			rule.AbortIncompleteMultipartUpload = &s3types.AbortIncompleteMultipartUpload{DaysAfterInitiation: c.AbortIncompleteMultipartUpload.DaysAfterInitiation}
		}
		transitions := c.Transitions
		if c.Transition != nil {
			transitions = append(transitions, *c.Transition)
		}
		for j, t := range transitions {
			tr := s3types.Transition{StorageClass: s3types.TransitionStorageClass(t.StorageClass), Days: t.TransitionInDays}
			if t.TransitionDate != nil {
				d, err := lifecycleDate(*t.TransitionDate)
				if err != nil {
					return nil, fmt.Errorf("%s.Transitions[%d].TransitionDate: %w", where, j, err)
				}
				tr.Date = &d
			}
			rule.Transitions = append(rule.Transitions, tr)
		}
		nts := c.NoncurrentVersionTransitions
		if c.NoncurrentVersionTransition != nil {
			nts = append(nts, *c.NoncurrentVersionTransition)
		}
		for _, t := range nts {
			rule.NoncurrentVersionTransitions = append(rule.NoncurrentVersionTransitions, s3types.NoncurrentVersionTransition{
				StorageClass: s3types.TransitionStorageClass(t.StorageClass), NoncurrentDays: t.TransitionInDays, NewerNoncurrentVersions: t.NewerNoncurrentVersions})
		}
		if rule.Expiration == nil && rule.NoncurrentVersionExpiration == nil && rule.AbortIncompleteMultipartUpload == nil &&
			len(rule.Transitions) == 0 && len(rule.NoncurrentVersionTransitions) == 0 {
			return nil, fmt.Errorf("%s: a rule needs at least one action (an expiration, a transition or AbortIncompleteMultipartUpload)", where)
		}
		out = append(out, rule)
	}
	return out, nil
}

// filterOf is a rule's filter: its one condition, or all of them under And.
func filterOf(c lifecycleRule) *s3types.LifecycleRuleFilter {
	n := len(c.TagFilters)
	for _, set := range []bool{c.Prefix != nil, c.ObjectSizeGreaterThan != nil, c.ObjectSizeLessThan != nil} {
		if set {
			n++
		}
	}
	var tags []s3types.Tag
	for _, t := range c.TagFilters {
		tags = append(tags, s3types.Tag{Key: aws.String(t.Key), Value: aws.String(t.Value)})
	}
	switch {
	case n == 0:
		return &s3types.LifecycleRuleFilter{Prefix: aws.String("")}
	case n > 1:
		return &s3types.LifecycleRuleFilter{And: &s3types.LifecycleRuleAndOperator{Prefix: c.Prefix, Tags: tags,
			ObjectSizeGreaterThan: c.ObjectSizeGreaterThan, ObjectSizeLessThan: c.ObjectSizeLessThan}}
	case len(tags) == 1:
		return &s3types.LifecycleRuleFilter{Tag: &tags[0]}
	}
	return &s3types.LifecycleRuleFilter{Prefix: c.Prefix, ObjectSizeGreaterThan: c.ObjectSizeGreaterThan, ObjectSizeLessThan: c.ObjectSizeLessThan}
}

// lifecycleDate reads a lifecycle date: ISO 8601, a date or a UTC midnight timestamp.
func lifecycleDate(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO 8601 date", s)
}

func (bucketHandler) update(ctx context.Context, r *run, res *resource, prev stack.ResourceState, _ []string) (Action, string, error) {
	want, err := decodeBucket(res.props)
	if err != nil {
		return "", "", err
	}
	had, err := decodeBucket(prev.Properties)
	if err != nil {
		had = &bucketProps{}
	}
	res.attrs = bucketAttrs(prev.PhysicalID, r.region)
	return ActionUpdate, "", applyBucket(ctx, r, prev.PhysicalID, had, want)
}

func (bucketHandler) replaces(changed []string) bool { return has(changed, "BucketName") }

// remove deletes the bucket. A bucket that still holds objects is not emptied: S3's BucketNotEmpty fails the
// deletion, as it does CloudFormation's (DeletionPolicy: Retain keeps such a bucket out of the deletion).
func (bucketHandler) remove(ctx context.Context, r *run, prev stack.ResourceState) error {
	_, err := r.s3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(prev.PhysicalID)})
	if apiCode(err) == "NoSuchBucket" {
		return nil
	}
	return err
}

// apiCode is the error code of a service's answer ("" for no error or none from a service).
func apiCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// ---- AWS::S3::BucketPolicy ----

// bucketPolicyHandler puts a bucket's policy. Its physical id is the bucket's name, which is what Ref gives.
type bucketPolicyHandler struct{}

func (bucketPolicyHandler) check(r *run, id string, _ *cfn.Resource) error {
	props, err := checkedProps(r, id, "Bucket", "PolicyDocument")
	if err != nil {
		return err
	}
	if str(props, "Bucket") == "" {
		return errors.New("Bucket is required")
	}
	_, err = document(props["PolicyDocument"])
	return err
}

func (bucketPolicyHandler) create(ctx context.Context, r *run, res *resource) error {
	doc, err := document(res.props["PolicyDocument"])
	if err != nil {
		return err
	}
	bucket := str(res.props, "Bucket")
	if _, err := r.s3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(doc)}); err != nil {
		return err
	}
	res.physicalID = bucket
	return nil
}

func (h bucketPolicyHandler) update(ctx context.Context, r *run, res *resource, _ stack.ResourceState, _ []string) (Action, string, error) {
	return ActionUpdate, "", h.create(ctx, r, res)
}

func (bucketPolicyHandler) replaces(changed []string) bool { return has(changed, "Bucket") }

func (bucketPolicyHandler) remove(ctx context.Context, r *run, prev stack.ResourceState) error {
	_, err := r.s3.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(prev.PhysicalID)})
	if apiCode(err) == "NoSuchBucket" {
		return nil
	}
	return err
}
