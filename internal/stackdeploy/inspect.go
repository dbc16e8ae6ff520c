package stackdeploy

import (
	"context"

	"github.com/sluice-dev/sluice/internal/cfn"
)

// Inspection is a template given to the CloudFormation API, as a deploy of it would read it.
type Inspection struct {
	// Template is the template as given; Processed is it after its transform (SAM's), what a deploy makes.
	Template, Processed *cfn.Template
	// Notes are what a deploy would report besides (skipped SSM parameters, Rules not evaluated).
	Notes []string
}

// Inspect reads a template body as a deploy would, calling nothing: it parses it, expands SAM, resolves the
// parameters (an error is CloudFormation's message: "Parameters: [X] must have values", …) and refuses what
// Sluice cannot deploy — resource types, properties, local code — before the API accepts the operation. SSM-typed
// parameters get placeholders here: the deploy reads them from Parameter Store, as its caller.
func Inspect(ctx context.Context, body []byte, pseudo cfn.Pseudo, parameters map[string]string) (*Inspection, error) {
	original, err := cfn.Parse(body)
	if err != nil {
		return nil, err
	}
	l, err := load(ctx, body, pseudo, parameters, placeholderSSM)
	if err != nil {
		return nil, err
	}
	order, err := l.eval.Order()
	if err != nil {
		return nil, err
	}
	r := &run{l: l}
	if err := r.check(order); err != nil {
		return nil, err
	}
	return &Inspection{Template: original, Processed: l.tpl, Notes: l.notes}, nil
}

// placeholderSSM stands in for the values of SSM-typed parameters when nothing may be called.
func placeholderSSM(_ context.Context, params []cfn.SSMParameter) (map[string]string, error) {
	values := map[string]string{}
	for _, p := range params {
		values[p.Parameter] = "{{resolve:ssm:" + p.Name + "}}"
	}
	return values, nil
}
