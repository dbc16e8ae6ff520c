package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/spf13/cobra"

	"github.com/sluice-dev/sluice/internal/cli/progress"
	"github.com/sluice-dev/sluice/internal/stack"
	"github.com/sluice-dev/sluice/internal/stackdeploy"
)

// deployFlags are the flags deploy and diff share.
type deployFlags struct {
	clientFlags
	template   string
	stackName  string
	unlock     bool
	overrides  []string
	output     string
	noProgress bool
}

func (f *deployFlags) register(cmd *cobra.Command) {
	f.clientFlags.register(cmd)
	cmd.Flags().StringVarP(&f.template, "template-file", "t", "template.yaml", "SAM or CloudFormation template (YAML or JSON)")
	cmd.Flags().StringVar(&f.stackName, "stack-name", "", "stack name (default: the template's directory name)")
	cmd.Flags().StringSliceVar(&f.overrides, "parameter-overrides", nil, "template parameters as Key=Value (repeatable, or space/comma separated)")
	cmd.Flags().StringVarP(&f.output, "output", "o", "text", "text or json (a summary on stdout)")
}

// deployRequest is what a deploy or diff is asked to do.
type deployRequest struct {
	cfg       aws.Config
	name      string
	overrides map[string]string
}

func (f *deployFlags) request(ctx context.Context) (deployRequest, error) {
	if f.output != "text" && f.output != "json" {
		return deployRequest{}, fmt.Errorf("--output: %q is neither text nor json", f.output)
	}
	name := f.stackName
	if name == "" {
		abs, _ := filepath.Abs(f.template)
		name = sanitizeStackName(filepath.Base(filepath.Dir(abs)))
	}
	overrides := map[string]string{}
	for _, kv := range f.overrides {
		for _, part := range strings.Fields(kv) {
			k, v, ok := strings.Cut(part, "=")
			if !ok || k == "" {
				return deployRequest{}, fmt.Errorf("--parameter-overrides: %q is not Key=Value", part)
			}
			overrides[k] = v
		}
	}
	cfg, err := f.awsConfig(ctx)
	if err != nil {
		return deployRequest{}, err
	}
	return deployRequest{cfg: cfg, name: name, overrides: overrides}, nil
}

// sanitizeStackName turns a directory name into a valid stack name.
func sanitizeStackName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9' && b.Len() > 0, r == '-' && b.Len() > 0:
			b.WriteRune(r)
		case b.Len() > 0:
			b.WriteByte('-')
		}
	}
	if b.Len() == 0 {
		return "stack"
	}
	return b.String()
}

func deployCommand() *cobra.Command {
	var f deployFlags
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "deploy",
		Short: "Deploy a SAM or CloudFormation template safely (versions, aliases, CodeDeploy traffic shifting)",
		Long: `Deploys a template through Sluice's CloudFormation API, as any CloudFormation client does, with the standard
credential chain (keys, profiles, or AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE for keyless CI) and AWS_ENDPOINT_URL.

Local code (SAM's CodeUri, a function's Code, a CDK asset directory) is packaged and uploaded to the artifact
bucket sluice-artifacts-<account>-<region> (created on first use; keys name the content, so unchanged code is not
uploaded again), as aws cloudformation package does; then a change set is made (CREATE for a new stack, UPDATE
otherwise), with CAPABILITY_IAM, CAPABILITY_NAMED_IAM and CAPABILITY_AUTO_EXPAND acknowledged, and executed.

The first deploy creates everything and points each alias at its first version in one step. Later deploys
publish a new version only when code, environment or memory changed (all properties with
AutoPublishAliasAllProperties), and move aliases with a DeploymentPreference through a CodeDeploy deployment —
canary or linear steps, pre/post-traffic hooks, alarms that roll back — shown live from the stack's events and
the deployment. As in CloudFormation, what a deploy supersedes is deleted only once every update and traffic shift
has succeeded; a failed update is rolled back instead. Exits 0 on success, 1 on failure (the stack is
UPDATE_ROLLBACK_COMPLETE, UPDATE_ROLLBACK_FAILED, ROLLBACK_COMPLETE or CREATE_FAILED), 2 when a traffic shift was
rolled back (and the stack with it), 130 when interrupted: the stack operation goes on in the server, as on
CloudFormation, and the message says how to follow it (before the change set was executed, nothing was changed).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDeploy(cmd, &f, dryRun)
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "show what would change and change nothing")
	cmd.Flags().BoolVar(&f.noProgress, "no-progress", false, "plain timestamped lines even on a terminal")
	cmd.Flags().BoolVar(&f.unlock, "unlock", false, "no effect: stack operations run in the server, which resumes them")
	_ = cmd.Flags().MarkDeprecated("unlock", "stack operations run in the Sluice server, which resumes them after a restart; there is nothing to unlock")
	return cmd
}

func diffCommand() *cobra.Command {
	var f deployFlags
	cmd := &cobra.Command{
		Use:   "diff",
		Short: "Show what `sluice deploy` would change (same flags): a change set described, then deleted",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDeploy(cmd, &f, true)
		},
	}
	f.register(cmd)
	return cmd
}

// ExitError carries a process exit code.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

func runDeploy(cmd *cobra.Command, f *deployFlags, dryRun bool) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
	req, err := f.request(ctx)
	if err != nil {
		if f.output == "json" {
			// Pipelines that parse the summary get one even when the deploy could not begin.
			writeJSON(out, &stackdeploy.Result{Stack: f.stackName, Reason: err.Error(), Changes: []stackdeploy.Change{}})
		}
		return &ExitError{Code: 1, Err: err}
	}
	// Progress goes to stderr so that --output json keeps stdout clean.
	stderr, isFile := errOut.(*os.File)
	live := isFile && progress.IsTerminal(stderr) && !f.noProgress
	observer := &progressObserver{r: progress.NewPlain(errOut)}
	if live {
		observer.r = progress.NewTerminal(errOut, progress.TerminalWidth(stderr), true)
	}
	event := func(format string, args ...any) {
		fmt.Fprintf(errOut, "%s %s\n", time.Now().UTC().Format(time.RFC3339), fmt.Sprintf(format, args...))
	}
	d := newStackDeploy(req.cfg, req.name, f.template, req.overrides, event)
	d.observer = observer
	err = d.run(ctx, dryRun)
	res := d.res
	if err != nil && res.Reason == "" && ctx.Err() == nil {
		res.Reason = errorLine(err)
	}
	if f.output == "json" {
		writeJSON(out, res)
	} else {
		printResult(out, res, err)
	}
	return deployExit(ctx, err, observer.unfinished(), res, d.executed)
}

// exitInterrupted is the exit code of a deploy stopped by SIGINT or SIGTERM (128 + SIGINT, as shells report it).
const exitInterrupted = 130

// deployExit maps how a deploy ended to its exit: 2 when a traffic shift was rolled back (and the stack with it),
// 1 on any other failure — whenever the deploy leaves the stack in a failed state, a rollback that failed included (a
// dry run, or a deploy with nothing to change, leaves the state the last deploy left) — and, when the deploy was interrupted (ctx
// ended), what goes on without it instead of "context canceled": the stack operation, if the change set was
// executed, and the traffic shifts the live view last saw unfinished.
func deployExit(ctx context.Context, err error, unfinished []stackdeploy.ShiftState, res *stackdeploy.Result, executed bool) error {
	switch {
	case err == nil && res != nil && !res.DryRun && res.Changed() && res.Status.Failed():
		return &ExitError{Code: 1, Err: fmt.Errorf("stack %s is %s", res.Stack, res.Status)}
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return &ExitError{Code: exitInterrupted, Err: interrupted(unfinished, res, executed, err)}
	case errors.Is(err, stackdeploy.ErrRollbackFailed):
		return &ExitError{Code: 1, Err: err}
	case errors.Is(err, stackdeploy.ErrRolledBack):
		return &ExitError{Code: 2, Err: err}
	}
	return &ExitError{Code: 1, Err: err}
}

// interruptedError reads "interrupted" and what goes on without the deploy. --debug adds the error the
// interruption caused.
type interruptedError struct {
	msg string
	err error
}

func (e *interruptedError) Error() string { return e.msg }
func (e *interruptedError) Unwrap() error { return e.err }

// interrupted says what an interrupted deploy leaves: before its change set ran, nothing changed (the change set
// is deleted); after, the stack operation goes on in the server — as a CloudFormation stack operation goes on when
// its client stops — and so does each CodeDeploy deployment it was seen to start.
func interrupted(unfinished []stackdeploy.ShiftState, res *stackdeploy.Result, executed bool, err error) error {
	if !executed {
		return &interruptedError{msg: "interrupted; nothing was changed", err: err}
	}
	msg := fmt.Sprintf("interrupted; the operation on stack %s goes on in Sluice: `sluice stack show %s` (or `aws cloudformation describe-stack-events --stack-name %s`) follows it",
		res.Stack, res.Stack, res.Stack)
	for _, s := range slices.Clone(unfinished) {
		msg += fmt.Sprintf("; the CodeDeploy deployment %s of %s:%s goes on: `sluice deployments show %s` follows it, `sluice rollback %s --alias %s` stops it (and the stack rolls back)",
			s.DeploymentID, s.Name, s.Alias, s.DeploymentID, s.Name, s.Alias)
	}
	return &interruptedError{msg: msg, err: err}
}

// printResult summarises a deploy for people. The error that ended the deploy, if any, is left to the one line
// on stderr: the summary names it only when the engine gave a reason of its own.
func printResult(w io.Writer, r *stackdeploy.Result, err error) {
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	if !r.Changed() && r.Reason == "" {
		fmt.Fprintf(w, "No changes: stack %s is up to date.\n", r.Stack)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	verb := map[bool]string{true: "would ", false: ""}[r.DryRun]
	for _, c := range r.Changes {
		if c.Action == stackdeploy.ActionNone {
			continue
		}
		detail := c.Detail
		if detail == "" && len(c.Properties) > 0 {
			detail = strings.Join(c.Properties, ", ")
		}
		fmt.Fprintf(tw, "%s%s\t%s\t%s\t%s\n", verb, c.Action, c.LogicalID, c.Type, detail)
	}
	tw.Flush()
	for _, s := range r.Shifts {
		fmt.Fprintf(w, "%s:%s %s → %s  %s  %s (new version served %d requests, %d errors)\n", s.Function, s.Alias, s.FromVersion, s.ToVersion, s.DeploymentID, s.Status, s.Invocations, s.Errors)
	}
	printCleanup(w, r.Cleanup, "Cleanup (after every update):")
	if len(r.Outputs) > 0 {
		fmt.Fprintln(w, "Outputs:")
		keys := make([]string, 0, len(r.Outputs))
		for k := range r.Outputs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  %s = %s\n", k, r.Outputs[k])
		}
	}
	switch {
	case r.DryRun:
		fmt.Fprintf(w, "Dry run: nothing was changed.\n")
	case r.Reason != "" && (err == nil || r.Reason != err.Error()):
		fmt.Fprintf(w, "Stack %s: %s — %s\n", r.Stack, r.Status, r.Reason)
	case r.Status != "":
		fmt.Fprintf(w, "Stack %s: %s\n", r.Stack, r.Status)
	}
}

// printCleanup lists what became of the physical resources that left a stack: deleted, retained (by which policy)
// or left in the account because their deletion failed.
func printCleanup(w io.Writer, cleanup []stack.Removal, title string) {
	if len(cleanup) == 0 {
		return
	}
	fmt.Fprintln(w, title)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	why := map[string]string{stack.RemovalReplaced: "replaced", stack.RemovalRemoved: "left the template",
		stack.RemovalRolledBack: "created by the update rolled back"}
	for _, c := range cleanup {
		outcome := c.Outcome
		if c.Reason != "" {
			outcome += " (" + c.Reason + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s: %s\n", c.LogicalID, c.Type, c.PhysicalID, why[c.Why], outcome)
	}
	tw.Flush()
}

func rollbackCommand() *cobra.Command {
	var cf clientFlags
	var alias, toVersion string
	cmd := &cobra.Command{
		Use:   "rollback FUNCTION --alias ALIAS",
		Short: "Flip an alias back at once: stop its deployment (CodeDeploy rolls back) or point it at the previous version",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			cfg, err := cf.awsConfig(ctx)
			if err != nil {
				return err
			}
			return rollback(ctx, cmd.OutOrStdout(), cfg, args[0], alias, toVersion)
		},
	}
	cf.register(cmd)
	cmd.Flags().StringVar(&alias, "alias", "", "alias to roll back (required)")
	cmd.Flags().StringVar(&toVersion, "to-version", "", "version to point at (default: the version before the alias's current one)")
	_ = cmd.MarkFlagRequired("alias")
	return cmd
}

// rollback stops any deployment moving the alias (with CodeDeploy's rollback), then points the alias, with no
// routing weights, at the version wanted.
func rollback(ctx context.Context, w io.Writer, cfg aws.Config, function, alias, toVersion string) error {
	lc, cd := lambda.NewFromConfig(cfg), codedeploy.NewFromConfig(cfg)
	if id, err := activeDeployment(ctx, cd, function, alias); err != nil {
		return err
	} else if id != "" {
		if _, err := cd.StopDeployment(ctx, &codedeploy.StopDeploymentInput{DeploymentId: aws.String(id), AutoRollbackEnabled: aws.Bool(true)}); err != nil {
			return err
		}
		fmt.Fprintf(w, "stopped deployment %s (CodeDeploy rolls it back)\n", id)
		for range 100 {
			a, err := lc.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(function), Name: aws.String(alias)})
			if err == nil && (a.RoutingConfig == nil || len(a.RoutingConfig.AdditionalVersionWeights) == 0) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if toVersion == "" {
			a, err := lc.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(function), Name: aws.String(alias)})
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "%s:%s is on version %s\n", function, alias, aws.ToString(a.FunctionVersion))
			return nil
		}
	}
	a, err := lc.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(function), Name: aws.String(alias)})
	if err != nil {
		return err
	}
	current := aws.ToString(a.FunctionVersion)
	if toVersion == "" {
		if toVersion, err = previousVersion(ctx, lc, function, current); err != nil {
			return err
		}
	}
	if _, err := lc.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String(function), Name: aws.String(alias),
		FunctionVersion: aws.String(toVersion), RoutingConfig: &types.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{}}}); err != nil {
		return err
	}
	fmt.Fprintf(w, "%s:%s: version %s → %s\n", function, alias, current, toVersion)
	return nil
}

// previousVersion is the highest published version below current.
func previousVersion(ctx context.Context, lc *lambda.Client, function, current string) (string, error) {
	var cur int
	if _, err := fmt.Sscan(current, &cur); err != nil {
		return "", fmt.Errorf("the alias points at %s; say which version with --to-version", current)
	}
	best := 0
	p := lambda.NewListVersionsByFunctionPaginator(lc, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String(function)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", err
		}
		for _, v := range page.Versions {
			var n int
			if _, err := fmt.Sscan(aws.ToString(v.Version), &n); err == nil && n < cur && n > best {
				best = n
			}
		}
	}
	if best == 0 {
		return "", fmt.Errorf("%s has no version before %s", function, current)
	}
	return fmt.Sprint(best), nil
}

// activeDeployment finds a deployment in progress that targets function:alias.
func activeDeployment(ctx context.Context, cd *codedeploy.Client, function, alias string) (string, error) {
	apps, err := cd.ListApplications(ctx, &codedeploy.ListApplicationsInput{})
	if err != nil {
		return "", err
	}
	for _, app := range apps.Applications {
		groups, err := cd.ListDeploymentGroups(ctx, &codedeploy.ListDeploymentGroupsInput{ApplicationName: aws.String(app)})
		if err != nil {
			return "", err
		}
		for _, g := range groups.DeploymentGroups {
			ds, err := cd.ListDeployments(ctx, &codedeploy.ListDeploymentsInput{ApplicationName: aws.String(app), DeploymentGroupName: aws.String(g),
				IncludeOnlyStatuses: []cdtypes.DeploymentStatus{cdtypes.DeploymentStatusCreated, cdtypes.DeploymentStatusQueued, cdtypes.DeploymentStatusInProgress}})
			if err != nil {
				return "", err
			}
			for _, id := range ds.Deployments {
				t, err := cd.GetDeploymentTarget(ctx, &codedeploy.GetDeploymentTargetInput{DeploymentId: aws.String(id), TargetId: aws.String(function + ":" + alias)})
				if err == nil && t.DeploymentTarget != nil && t.DeploymentTarget.LambdaTarget != nil {
					return id, nil
				}
			}
		}
	}
	return "", nil
}

func sortedStackKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
