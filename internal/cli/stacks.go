package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/spf13/cobra"

	"github.com/sluice-dev/sluice/internal/stack"
	"github.com/sluice-dev/sluice/internal/stackdeploy"
)

// stackCommand is `sluice stack`: the stacks of the CloudFormation API — those `sluice deploy` makes and those any
// other CloudFormation client makes — listed, shown and deleted through that API.
func stackCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "stack", Short: "Stacks (Sluice's CloudFormation stacks, whichever client made them)"}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the stacks (ListStacks, deleted ones left out)",
		Args:  cobra.NoArgs,
	}
	var listFlags clientFlags
	list.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := listFlags.awsConfig(cmd.Context())
		if err != nil {
			return err
		}
		return listStacks(cmd.Context(), cmd.OutOrStdout(), cloudformation.NewFromConfig(cfg))
	}
	listFlags.register(list)
	show := &cobra.Command{
		Use:   "show STACK",
		Short: "Show a stack's status, resources, aliases, last cleanup, resolved parameters and outputs",
		Args:  cobra.ExactArgs(1),
	}
	var showFlags clientFlags
	show.RunE = func(cmd *cobra.Command, args []string) error {
		cfg, err := showFlags.awsConfig(cmd.Context())
		if err != nil {
			return err
		}
		return showStack(cmd.Context(), cmd.OutOrStdout(), cfg, args[0])
	}
	showFlags.register(show)
	status := &cobra.Command{
		Use:   "status [STACK]",
		Short: "List the stacks, or show one (list and show in one command)",
		Args:  cobra.MaximumNArgs(1),
	}
	var statusFlags clientFlags
	status.RunE = func(cmd *cobra.Command, args []string) error {
		cfg, err := statusFlags.awsConfig(cmd.Context())
		if err != nil {
			return err
		}
		if len(args) == 0 {
			return listStacks(cmd.Context(), cmd.OutOrStdout(), cloudformation.NewFromConfig(cfg))
		}
		return showStack(cmd.Context(), cmd.OutOrStdout(), cfg, args[0])
	}
	statusFlags.register(status)
	cmd.AddCommand(list, show, status, stackDeleteCommand())
	return cmd
}

func listStacks(ctx context.Context, out io.Writer, cf *cloudformation.Client) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STACK\tSTATUS\tUPDATED")
	p := cloudformation.NewListStacksPaginator(cf, &cloudformation.ListStacksInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, s := range page.StackSummaries {
			if s.StackStatus == cftypes.StackStatusDeleteComplete {
				continue
			}
			updated := aws.ToTime(s.CreationTime)
			if s.LastUpdatedTime != nil {
				updated = *s.LastUpdatedTime
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", aws.ToString(s.StackName), s.StackStatus, updated.Local().Format(time.DateTime))
		}
	}
	return tw.Flush()
}

func showStack(ctx context.Context, out io.Writer, cfg aws.Config, name string) error {
	cf := cloudformation.NewFromConfig(cfg)
	d := newStackDeploy(cfg, name, "", nil, func(string, ...any) {})
	st, err := d.describe(ctx)
	if err != nil {
		return err
	}
	if st == nil {
		return fmt.Errorf("ValidationError: Stack with id %s does not exist", name)
	}
	fmt.Fprintf(out, "Stack    %s\nStatus   %s\n", name, st.StackStatus)
	if r := aws.ToString(st.StackStatusReason); r != "" {
		fmt.Fprintf(out, "Reason   %s\n", r)
	}
	updated := aws.ToTime(st.CreationTime)
	if st.LastUpdatedTime != nil {
		updated = *st.LastUpdatedTime
	}
	fmt.Fprintf(out, "Updated  %s\nID       %s\n\n", updated.Local().Format(time.DateTime), aws.ToString(st.StackId))
	res, err := cf.DescribeStackResources(ctx, &cloudformation.DescribeStackResourcesInput{StackName: aws.String(name)})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RESOURCE\tTYPE\tSTATUS\tPHYSICAL ID")
	var aliases []cftypes.StackResource
	for _, r := range res.StackResources {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", aws.ToString(r.LogicalResourceId), aws.ToString(r.ResourceType), r.ResourceStatus, aws.ToString(r.PhysicalResourceId))
		if aws.ToString(r.ResourceType) == "AWS::Lambda::Alias" {
			aliases = append(aliases, r)
		}
	}
	tw.Flush()
	printLiveAliases(ctx, out, lambda.NewFromConfig(cfg), aliases)
	if cleanup := lastCleanup(ctx, d, res.StackResources); len(cleanup) > 0 {
		fmt.Fprintln(out)
		printCleanup(out, cleanup, "Last cleanup:")
	}
	var resolved, outputs []string
	for _, p := range st.Parameters {
		if p.ResolvedValue != nil {
			resolved = append(resolved, fmt.Sprintf("  %s = %s", aws.ToString(p.ParameterKey), aws.ToString(p.ResolvedValue)))
		}
	}
	for _, o := range st.Outputs {
		outputs = append(outputs, fmt.Sprintf("  %s = %s", aws.ToString(o.OutputKey), aws.ToString(o.OutputValue)))
	}
	if len(resolved) > 0 {
		fmt.Fprintf(out, "\nParameters resolved from SSM:\n%s\n", strings.Join(resolved, "\n"))
	}
	if len(outputs) > 0 {
		fmt.Fprintf(out, "\nOutputs:\n%s\n", strings.Join(outputs, "\n"))
	}
	return nil
}

// lastCleanup is what the stack's last operation did with the resources that left it, read from its events
// (best effort: nothing when they cannot be read).
func lastCleanup(ctx context.Context, d *stackDeploy, resources []cftypes.StackResource) []stack.Removal {
	out, err := d.cf.DescribeStackEvents(ctx, &cloudformation.DescribeStackEventsInput{StackName: aws.String(d.name)})
	if err != nil {
		return nil
	}
	// The last operation's events, from its "User Initiated" start.
	start := len(out.StackEvents) - 1
	for i, e := range out.StackEvents {
		if aws.ToString(e.ResourceType) == stackdeploy.StackType && aws.ToString(e.ResourceStatusReason) == "User Initiated" {
			start = i
			break
		}
	}
	// A resource deleted in a cleanup and still in the stack was replaced; one no longer there left the template.
	d.replaced = func(id string) bool {
		return slices.ContainsFunc(resources, func(r cftypes.StackResource) bool { return aws.ToString(r.LogicalResourceId) == id })
	}
	for i := start; i >= 0; i-- {
		d.show(out.StackEvents[i])
	}
	return d.res.Cleanup
}

// printLiveAliases says which version each alias of the stack is on now: a rollback (CodeDeploy's or `sluice
// rollback`) moves an alias without the stack knowing, so the stack alone would name a stale version.
func printLiveAliases(ctx context.Context, out io.Writer, c *lambda.Client, aliases []cftypes.StackResource) {
	var lines []string
	for _, r := range aliases {
		fn, name := aliasOf(aws.ToString(r.PhysicalResourceId))
		if name == "" {
			continue
		}
		line := fmt.Sprintf("  %s  %s:%s → ", aws.ToString(r.LogicalResourceId), fn, name)
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

func stackDeleteCommand() *cobra.Command {
	var cf clientFlags
	var output string
	cmd := &cobra.Command{
		Use:   "delete STACK",
		Short: "Delete a stack (DeleteStack) and wait for it: what it made goes, except what it retains",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			cfg, err := cf.awsConfig(ctx)
			if err != nil {
				return err
			}
			errOut := cmd.ErrOrStderr()
			event := func(format string, args ...any) {
				fmt.Fprintf(errOut, "%s %s\n", time.Now().UTC().Format(time.RFC3339), fmt.Sprintf(format, args...))
			}
			d := newStackDeploy(cfg, args[0], "", nil, event)
			err = d.deleteStack(ctx)
			if output == "json" {
				writeJSON(cmd.OutOrStdout(), d.res)
			} else if err == nil {
				fmt.Fprintf(cmd.OutOrStdout(), "Stack %s: %s\n", d.name, d.res.Status)
			}
			if err != nil {
				if ctx.Err() != nil {
					return &ExitError{Code: exitInterrupted, Err: fmt.Errorf("interrupted; the deletion of stack %s goes on in Sluice: `sluice stack show %s` follows it", d.name, d.name)}
				}
				return &ExitError{Code: 1, Err: err}
			}
			return nil
		},
	}
	cf.register(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text or json")
	var unlock bool
	cmd.Flags().BoolVar(&unlock, "unlock", false, "no effect: stack operations run in the server, which resumes them")
	_ = cmd.Flags().MarkDeprecated("unlock", "stack operations run in the Sluice server, which resumes them after a restart; there is nothing to unlock")
	return cmd
}

// deleteStack deletes the stack through DeleteStack and follows the deletion by the stack's ID (a deleted stack is
// DELETE_COMPLETE there) to its end.
func (d *stackDeploy) deleteStack(ctx context.Context) error {
	st, err := d.describe(ctx)
	if err != nil {
		return err
	}
	if st == nil {
		return fmt.Errorf("ValidationError: Stack with id %s does not exist", d.name)
	}
	before, err := d.newestEvent(ctx)
	if err != nil {
		return err
	}
	d.seen[before] = true
	if _, err := d.cf.DeleteStack(ctx, &cloudformation.DeleteStackInput{StackName: aws.String(d.name)}); err != nil {
		return err
	}
	d.executed = true
	byID := newStackDeploy(d.cfg, aws.ToString(st.StackId), "", nil, d.event)
	byID.seen, byID.label = d.seen, d.name
	for {
		if err := byID.readEvents(ctx); err != nil && ctx.Err() == nil {
			return err
		}
		cur, err := byID.describe(ctx)
		if err != nil {
			return err
		}
		if cur != nil && !strings.HasSuffix(string(cur.StackStatus), "_IN_PROGRESS") {
			d.res.Status, d.res.Reason = stack.Status(cur.StackStatus), aws.ToString(cur.StackStatusReason)
			if cur.StackStatus != cftypes.StackStatusDeleteComplete {
				return errors.New("stack " + d.name + " is " + string(cur.StackStatus) + ": " + d.res.Reason)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pollEvery):
		}
	}
}
