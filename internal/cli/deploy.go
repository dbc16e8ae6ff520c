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

func (f *deployFlags) options(ctx context.Context) (stackdeploy.Options, error) {
	cfg, err := f.awsConfig(ctx)
	if err != nil {
		return stackdeploy.Options{}, err
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
				return stackdeploy.Options{}, fmt.Errorf("--parameter-overrides: %q is not Key=Value", part)
			}
			overrides[k] = v
		}
	}
	if f.output != "text" && f.output != "json" {
		return stackdeploy.Options{}, fmt.Errorf("--output: %q is neither text nor json", f.output)
	}
	return stackdeploy.Options{TemplatePath: f.template, StackName: name, Overrides: overrides, Config: cfg, Stacks: stack.NewClient(cfg), Unlock: f.unlock}, nil
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
		Long: `Deploys a template through Sluice's AWS APIs with the standard credential chain (keys, profiles, or
AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE for keyless CI) and AWS_ENDPOINT_URL.

The first deploy creates everything and points each alias at its first version in one step. Later deploys
publish a new version only when code, environment or memory changed (all properties with
AutoPublishAliasAllProperties), and move aliases with a DeploymentPreference through a CodeDeploy deployment —
canary or linear steps, pre/post-traffic hooks, alarms that roll back — showing its progress live. As in
CloudFormation, what a deploy supersedes (replaced resources, old versions, resources that left the template) is
deleted only once every update and traffic shift has succeeded; a failed update is rolled back instead (what it
changed is put back, what it created is deleted). Exits 0 on success, 1 on failure (the stack is
UPDATE_ROLLBACK_COMPLETE, UPDATE_ROLLBACK_FAILED or CREATE_FAILED), 2 when a traffic shift was rolled back (and
the stack with it), 130 when interrupted (a CodeDeploy deployment already started goes on, and the message says how
to follow or stop it; when none had started, it says that nothing goes on and which resources were already
changed).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDeploy(cmd, &f, dryRun)
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "show what would change and change nothing")
	cmd.Flags().BoolVar(&f.noProgress, "no-progress", false, "plain timestamped lines even on a terminal")
	cmd.Flags().BoolVar(&f.unlock, "unlock", false, "deploy even if the stack is recorded as being deployed (that deploy died)")
	return cmd
}

func diffCommand() *cobra.Command {
	var f deployFlags
	cmd := &cobra.Command{
		Use:   "diff",
		Short: "Show what `sluice deploy` would change (same flags)",
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
	o, err := f.options(ctx)
	if err != nil {
		if f.output == "json" {
			// Pipelines that parse the summary get one even when the deploy could not begin.
			writeJSON(out, &stackdeploy.Result{Stack: f.stackName, Reason: err.Error(), Changes: []stackdeploy.Change{}})
		}
		return &ExitError{Code: 1, Err: err}
	}
	o.DryRun = dryRun
	// Progress goes to stderr so that --output json keeps stdout clean.
	stderr, isFile := errOut.(*os.File)
	live := isFile && progress.IsTerminal(stderr) && !f.noProgress
	observer := &progressObserver{r: progress.NewPlain(errOut)}
	if live {
		observer.r = progress.NewTerminal(errOut, progress.TerminalWidth(stderr), true)
	}
	o.Observer = observer
	o.Event = func(format string, args ...any) {
		fmt.Fprintf(errOut, "%s %s\n", time.Now().UTC().Format(time.RFC3339), fmt.Sprintf(format, args...))
	}
	res, err := stackdeploy.Deploy(ctx, o)
	if f.output == "json" {
		writeJSON(out, res)
	} else {
		printResult(out, res, err)
	}
	return deployExit(ctx, err, observer.unfinished(), res)
}

// exitInterrupted is the exit code of a deploy stopped by SIGINT or SIGTERM (128 + SIGINT, as shells report it).
const exitInterrupted = 130

// deployExit maps how a deploy ended to its exit: 2 when a traffic shift was rolled back (and the stack with it),
// 1 on any other failure — whenever the stack ends in a failed state, a rollback that failed included (a dry run
// changes nothing, so the state it reports is the last deploy's) — and, when
// the deploy was interrupted (ctx ended), what goes on without it instead of "context canceled": the shifts the
// live view last saw unfinished, and those the deploy started before any view (res.Shifts).
func deployExit(ctx context.Context, err error, unfinished []stackdeploy.ShiftState, res *stackdeploy.Result) error {
	switch {
	case err == nil && res != nil && !res.DryRun && res.Status.Failed():
		return &ExitError{Code: 1, Err: fmt.Errorf("stack %s is %s", res.Stack, res.Status)}
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return &ExitError{Code: exitInterrupted, Err: interrupted(unfinished, res, err)}
	case errors.Is(err, stackdeploy.ErrRollbackFailed):
		return &ExitError{Code: 1, Err: err}
	case errors.Is(err, stackdeploy.ErrRolledBack):
		return &ExitError{Code: 2, Err: err}
	}
	return &ExitError{Code: 1, Err: err}
}

// interruptedError reads "interrupted" and what the deploy leaves behind: for each CodeDeploy deployment it had
// started and not seen succeed, how to follow or stop it; when it had started none, that nothing goes on, and what
// it had already changed. --debug adds the error the interruption caused.
type interruptedError struct {
	msg string
	err error
}

func (e *interruptedError) Error() string { return e.msg }
func (e *interruptedError) Unwrap() error { return e.err }

func interrupted(unfinished []stackdeploy.ShiftState, res *stackdeploy.Result, err error) error {
	open := slices.Clone(unfinished)
	if res != nil {
		for _, s := range res.Shifts {
			seen := slices.ContainsFunc(open, func(o stackdeploy.ShiftState) bool { return o.DeploymentID == s.DeploymentID })
			if s.DeploymentID != "" && s.Status != "Succeeded" && !seen {
				open = append(open, stackdeploy.ShiftState{Name: s.Function, Alias: s.Alias, DeploymentID: s.DeploymentID, Status: s.Status})
			}
		}
	}
	msg := "interrupted"
	for i, s := range open {
		sep := "; "
		if i > 0 {
			sep = "; and "
		}
		msg += fmt.Sprintf("%sthe CodeDeploy deployment %s of %s:%s goes on: `sluice deployments show %s` follows it, `sluice rollback %s --alias %s` stops it",
			sep, s.DeploymentID, s.Name, s.Alias, s.DeploymentID, s.Name, s.Alias)
	}
	if len(open) == 0 {
		msg += "; " + leftBehind(res)
	}
	return &interruptedError{msg: msg, err: err}
}

// pastTense says what a deploy did to a resource.
var pastTense = map[stackdeploy.Action]string{stackdeploy.ActionCreate: "created", stackdeploy.ActionUpdate: "updated",
	stackdeploy.ActionReplace: "replaced", stackdeploy.ActionDelete: "deleted", stackdeploy.ActionRetain: "kept",
	stackdeploy.ActionShift: "shifted", stackdeploy.ActionRestore: "restored"}

// leftBehind says what an interrupted deploy that started no CodeDeploy deployment leaves: nothing running, and
// the resources it had changed (a deploy is not undone; the next one carries on from them).
func leftBehind(res *stackdeploy.Result) string {
	if res == nil || res.DryRun {
		return "nothing was changed"
	}
	var done []string
	for _, c := range res.Changes {
		if c.Action != stackdeploy.ActionNone {
			done = append(done, pastTense[c.Action]+" "+c.LogicalID)
		}
	}
	if len(done) == 0 {
		return "nothing was changed and nothing goes on"
	}
	const most = 5
	if len(done) > most {
		done = append(done[:most], fmt.Sprintf("%d more", len(done)-most))
	}
	return fmt.Sprintf("no CodeDeploy deployment was started, so nothing goes on; stack %s is %s with what was done (%s): run `sluice deploy` again to finish",
		res.Stack, res.Status, strings.Join(done, ", "))
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

func stackCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "stack", Short: "Stacks sluice deploy manages"}
	var cf clientFlags
	status := &cobra.Command{
		Use:   "status [STACK]",
		Short: "List stacks, or show one stack's resources, outputs and last deploy",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			cfg, err := cf.awsConfig(ctx)
			if err != nil {
				return err
			}
			stacks := stack.NewClient(cfg)
			out := cmd.OutOrStdout()
			if len(args) == 0 {
				list, err := stacks.List(ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "STACK\tSTATUS\tRESOURCES\tUPDATED")
				for _, s := range list {
					fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", s.Name, s.Status, s.Resources, s.Updated.Local().Format(time.DateTime))
				}
				return tw.Flush()
			}
			s, err := stacks.Get(ctx, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "Stack    %s\nStatus   %s\n", s.Name, s.Status)
			if s.Reason != "" {
				fmt.Fprintf(out, "Reason   %s\n", s.Reason)
			}
			fmt.Fprintf(out, "Updated  %s (revision %d)\n\n", s.Updated.Local().Format(time.DateTime), s.Revision)
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "RESOURCE\tTYPE\tPHYSICAL ID")
			for _, id := range sortedStackKeys(s.Resources) {
				r := s.Resources[id]
				fmt.Fprintf(tw, "%s\t%s\t%s\n", id, r.Type, r.PhysicalID)
			}
			tw.Flush()
			printLiveAliases(ctx, out, lambda.NewFromConfig(cfg), s)
			if len(s.Superseded) > 0 {
				fmt.Fprintln(out, "\nReplaced, to be deleted by the cleanup of the next deploy that succeeds:")
				tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				for _, r := range s.Superseded {
					kept := ""
					if r.Retain {
						kept = "(UpdateReplacePolicy: Retain keeps it)"
					}
					fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", r.LogicalID, r.Resource.Type, r.Resource.PhysicalID, kept)
				}
				tw.Flush()
			}
			if len(s.Cleanup) > 0 {
				fmt.Fprintln(out)
				printCleanup(out, s.Cleanup, "Last cleanup:")
			}
			if len(s.Deployments) > 0 {
				fmt.Fprintln(out, "\nLast traffic shifts:")
				for _, id := range sortedStackKeys(s.Deployments) {
					fmt.Fprintf(out, "  %s  %s  (sluice deployments show %s)\n", id, s.Deployments[id], s.Deployments[id])
				}
			}
			if len(s.ResolvedParameters) > 0 {
				fmt.Fprintln(out, "\nParameters resolved from SSM:")
				for _, k := range sortedStackKeys(s.ResolvedParameters) {
					fmt.Fprintf(out, "  %s = %s\n", k, s.ResolvedParameters[k])
				}
			}
			if len(s.Outputs) > 0 {
				fmt.Fprintln(out, "\nOutputs:")
				for _, k := range sortedStackKeys(s.Outputs) {
					fmt.Fprintf(out, "  %s = %s\n", k, s.Outputs[k])
				}
			}
			return nil
		},
	}
	cf.register(status)
	cmd.AddCommand(status, stackDeleteCommand())
	return cmd
}

func stackDeleteCommand() *cobra.Command {
	var f deployFlags
	cmd := &cobra.Command{
		Use:   "delete STACK",
		Short: "Delete what a stack made (except resources it retains) and its record",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f.stackName = args[0]
			o, err := f.options(cmd.Context())
			if err != nil {
				return err
			}
			errOut := cmd.ErrOrStderr()
			o.Event = func(format string, args ...any) {
				fmt.Fprintf(errOut, "%s %s\n", time.Now().UTC().Format(time.RFC3339), fmt.Sprintf(format, args...))
			}
			res, err := stackdeploy.Delete(cmd.Context(), o)
			if f.output == "json" {
				writeJSON(cmd.OutOrStdout(), res)
			} else if err == nil {
				fmt.Fprintf(cmd.OutOrStdout(), "Stack %s: %s\n", res.Stack, res.Status)
			}
			if err != nil {
				return &ExitError{Code: 1, Err: err}
			}
			return nil
		},
	}
	f.clientFlags.register(cmd)
	cmd.Flags().StringVarP(&f.output, "output", "o", "text", "text or json")
	cmd.Flags().BoolVar(&f.unlock, "unlock", false, "delete even if the stack is recorded as being deployed (that deploy died)")
	return cmd
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

// printLiveAliases says which version each alias of the stack is on now: a rollback (CodeDeploy's or `sluice
// rollback`) moves an alias without the stack record knowing, so the record alone would name a stale version.
func printLiveAliases(ctx context.Context, out io.Writer, c *lambda.Client, s stack.Stack) {
	var lines []string
	for _, id := range sortedStackKeys(s.Resources) {
		r := s.Resources[id]
		fn, _ := r.Properties["FunctionName"].(string)
		name, _ := r.Properties["Name"].(string)
		if r.Type != "AWS::Lambda::Alias" || fn == "" || name == "" {
			continue
		}
		line := fmt.Sprintf("  %s  %s:%s → ", id, fn, name)
		a, err := c.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(fn), Name: aws.String(name)})
		switch {
		case err != nil:
			line += "unknown (" + errorLine(err) + ")"
		default:
			line += "version " + aws.ToString(a.FunctionVersion)
			if a.RoutingConfig != nil {
				for v, w := range a.RoutingConfig.AdditionalVersionWeights {
					line += fmt.Sprintf(", version %s at %.0f%%", v, w*100)
				}
			}
		}
		lines = append(lines, line)
	}
	if len(lines) > 0 {
		fmt.Fprintln(out, "\nAliases now:")
		fmt.Fprintln(out, strings.Join(lines, "\n"))
	}
}
