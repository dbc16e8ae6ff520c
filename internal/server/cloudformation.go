package server

import (
	"context"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/sluice-dev/sluice/internal/certfile"
	"github.com/sluice-dev/sluice/internal/cfn"
	"github.com/sluice-dev/sluice/internal/cloudformation"
	"github.com/sluice-dev/sluice/internal/sdkhttp"
	"github.com/sluice-dev/sluice/internal/stack"
	"github.com/sluice-dev/sluice/internal/stackdeploy"
)

// stackEngine gives the CloudFormation service the deploy engine (internal/stackdeploy): it calls Sluice's own
// APIs over HTTP on this node's listener, signed with the operation's session, as any client would.
type stackEngine struct {
	endpoint, region string
	stacks           stack.Store
	http             aws.HTTPClient
}

// newStackEngine calls this node's own listener at endpoint; over TLS (keyPair set) it trusts exactly the
// certificate the listener serves, whichever names it holds.
func newStackEngine(endpoint, region string, stacks stack.Store, keyPair *certfile.KeyPair) stackEngine {
	client := awshttp.NewBuildableClient()
	if keyPair != nil {
		client = client.WithTransportOptions(func(t *http.Transport) { t.TLSClientConfig = keyPair.SelfClientConfig() })
	}
	return stackEngine{endpoint: endpoint, region: region, stacks: stacks, http: sdkhttp.Wrap(client)}
}

func (e stackEngine) Inspect(ctx context.Context, body []byte, pseudo cfn.Pseudo, parameters map[string]string) (*cloudformation.Inspection, error) {
	in, err := stackdeploy.Inspect(ctx, body, pseudo, parameters)
	if err != nil {
		return nil, err
	}
	return &cloudformation.Inspection{Template: in.Template, Processed: in.Processed}, nil
}

func (e stackEngine) Run(ctx context.Context, run cloudformation.Run) (cloudformation.RunResult, error) {
	c := run.Credentials
	cfg := aws.Config{Region: e.region, BaseEndpoint: aws.String(e.endpoint), HTTPClient: e.http,
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)}
	o := stackdeploy.Options{TemplateBody: run.Body, StackName: run.Stack, Overrides: run.Parameters, Config: cfg, Stacks: e.stacks,
		Owner: run.Owner, OnCreateFailure: run.OnFailure, DisableRollback: run.DisableRollback, RetainResources: run.RetainResources, Resuming: run.Resuming,
		Observer: engineEvents(run.Events)}
	var res *stackdeploy.Result
	var err error
	switch run.Kind {
	case stack.OpDelete:
		res, err = stackdeploy.Delete(ctx, o)
	case cloudformation.RunPlan:
		o.DryRun = true
		res, err = stackdeploy.Deploy(ctx, o)
	default:
		res, err = stackdeploy.Deploy(ctx, o)
	}
	out := cloudformation.RunResult{}
	if res != nil {
		out.Status = res.Status
		for _, ch := range res.Changes {
			pc := cloudformation.PlannedChange{LogicalID: ch.LogicalID, Type: ch.Type, PhysicalID: ch.PhysicalID, Action: string(ch.Action)}
			for _, d := range ch.Details {
				pc.Properties = append(pc.Properties, cloudformation.PlannedProperty{Name: d.Name, Replaces: d.Replaces, CausedBy: d.CausedBy, ByAttribute: d.ByAttribute})
			}
			out.Changes = append(out.Changes, pc)
		}
	}
	return out, err
}

// engineEvents hands the engine's events to the service.
type engineEvents func(cloudformation.Event)

func (f engineEvents) Event(e stackdeploy.Event) {
	if f != nil {
		f(cloudformation.Event{LogicalID: e.LogicalID, Type: e.Type, PhysicalID: e.PhysicalID, Status: e.Status, Reason: e.Reason, Properties: e.Properties})
	}
}
