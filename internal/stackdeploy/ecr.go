package stackdeploy

import (
	"context"
	"crypto/rand"
	"errors"
	"regexp"
	"strings"

	"github.com/sluice-dev/sluice/internal/cfn"
	"github.com/sluice-dev/sluice/internal/stack"
)

// ---- AWS::ECR::Repository ----

// repositoryHandler takes AWS::ECR::Repository, which `cdk bootstrap`'s template always declares for container
// image assets, as a recorded resource: Sluice has no ECR (functions run zip packages, no images), so nothing is
// made; the stack records the repository with the Ref and Fn::GetAtt values AWS gives, and an app that does publish
// an image asset fails at that step, when its tools call ECR, rather than every bootstrap failing up front.
type repositoryHandler struct{}

var repositoryKeys = []string{"RepositoryName", "ImageTagMutability", "ImageScanningConfiguration", "LifecyclePolicy",
	"RepositoryPolicyText", "EncryptionConfiguration", "EmptyOnDelete", "Tags"}

// repositoryName is ECR's pattern for a repository name.
var repositoryName = regexp.MustCompile(`^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$`)

func (repositoryHandler) check(r *run, id string, _ *cfn.Resource) error {
	props, err := checkedProps(r, id, repositoryKeys...)
	if err != nil {
		return err
	}
	if name := str(props, "RepositoryName"); name != "" && !strings.HasPrefix(name, "{") &&
		(len(name) < 2 || len(name) > 256 || !repositoryName.MatchString(name)) {
		return errors.New("RepositoryName must be 2-256 lowercase letters, digits and . _ - / separators, as ECR requires")
	}
	return nil
}

func (repositoryHandler) create(_ context.Context, r *run, res *resource) error {
	name := str(res.props, "RepositoryName")
	if name == "" {
		// CloudFormation's generated repository names are lowercase, <stack>-<logical id>-<random>.
		const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		for i := range b {
			b[i] = alphabet[int(b[i])%len(alphabet)]
		}
		name = strings.ToLower(r.o.StackName+"-"+res.id) + "-" + string(b)
	}
	res.physicalID = name
	res.attrs = map[string]string{
		"Arn":           "arn:aws:ecr:" + r.region + ":" + r.account + ":repository/" + name,
		"RepositoryUri": r.account + ".dkr.ecr." + r.region + ".amazonaws.com/" + name,
	}
	return nil
}

func (h repositoryHandler) update(_ context.Context, _ *run, res *resource, prev stack.ResourceState, _ []string) (Action, string, error) {
	res.attrs = prev.Attributes
	return ActionUpdate, "", nil
}

func (repositoryHandler) replaces(changed []string) bool {
	return has(changed, "RepositoryName", "EncryptionConfiguration")
}

func (repositoryHandler) remove(context.Context, *run, stack.ResourceState) error { return nil }
