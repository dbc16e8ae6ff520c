package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/sluice-dev/sluice/internal/cluster"
)

// TestClusterPausedDeploymentSurvivesLeaderKill pauses a linear shift through the node that does not lead the
// deployments, kills the leader, and finds the deployment still paused under the new one — the alias held — until a
// resume through the survivor lets it finish.
func TestClusterPausedDeploymentSurvivesLeaderKill(t *testing.T) {
	parallel(t)
	nodes := startCluster(t, 2, "--deploy-time-scale", "30") // a configured minute lasts 2 s
	c, cd := nodes[0].Lambda(), nodes[1].CodeDeploy()
	createEcho(t, c, "orders")
	v1 := publishNew(t, c, "orders", "one")
	v2 := publishNew(t, c, "orders", "two")
	if _, err := c.CreateAlias(t.Context(), &lambda.CreateAliasInput{FunctionName: aws.String("orders"), Name: aws.String("live"), FunctionVersion: aws.String(v1)}); err != nil {
		t.Fatal(err)
	}
	createDeploymentGroup(t, cd, linear10)
	id := createDeployment(t, cd, appSpecFor("orders", "live", v1, v2))
	leader := leaderOf(t, nodes, nodes[0], cluster.JobDeployments)
	other := nodes[0]
	if other == leader {
		other = nodes[1]
	}
	oc := other.Lambda()
	awaitWeight(t, oc, v2, "the first 10% step", func(w float64) bool { return w >= 0.1 })
	if out, errOut, code := sluice(t, other.Env(), "deployments", "pause", id); code != 0 || !strings.Contains(out, "accepted") {
		t.Fatalf("pause through the node that does not lead: exit %d %s%s", code, out, errOut)
	}
	awaitPaused(t, other.CodeDeploy(), id, true)
	held := liveWeight(t, oc, v2)

	leader.Kill(t)
	if next := leaderOf(t, nodes, other, cluster.JobDeployments); next != other {
		t.Fatal("the survivor does not lead the deployments")
	}
	awaitPaused(t, other.CodeDeploy(), id, true)
	holds(t, oc, v2, held, 5*time.Second, "paused, under the new leader")

	if out, errOut, code := sluice(t, other.Env(), "deployments", "resume", id); code != 0 {
		t.Fatalf("resume: exit %d %s%s", code, out, errOut)
	}
	waitDeployment(t, other.CodeDeploy(), id, cdtypes.DeploymentStatusSucceeded)
	if w := liveWeight(t, oc, v2); w != 1 {
		t.Fatalf("after the resumed deployment version %s has %g of live", v2, w)
	}
}
