package cli

import (
	"fmt"
	"sort"
	"strconv"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/spf13/cobra"
)

func statusCommand() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "status FUNCTION",
		Short: "Show a function's state, versions, aliases and weights at a glance",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			cfg, err := cf.awsConfig(ctx)
			if err != nil {
				return err
			}
			client := lambda.NewFromConfig(cfg)
			name := args[0]
			fn, err := client.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: &name})
			if err != nil {
				return err
			}
			var versions []types.FunctionConfiguration
			for p := lambda.NewListVersionsByFunctionPaginator(client, &lambda.ListVersionsByFunctionInput{FunctionName: &name}); p.HasMorePages(); {
				page, err := p.NextPage(ctx)
				if err != nil {
					return err
				}
				versions = append(versions, page.Versions...)
			}
			var aliases []types.AliasConfiguration
			for p := lambda.NewListAliasesPaginator(client, &lambda.ListAliasesInput{FunctionName: &name}); p.HasMorePages(); {
				page, err := p.NextPage(ctx)
				if err != nil {
					return err
				}
				aliases = append(aliases, page.Aliases...)
			}

			c := fn.Configuration
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Function  %s\n", aws.ToString(c.FunctionArn))
			fmt.Fprintf(out, "State     %s", c.State)
			if c.StateReason != nil {
				fmt.Fprintf(out, " (%s)", aws.ToString(c.StateReason))
			}
			fmt.Fprintf(out, "   LastUpdateStatus %s", c.LastUpdateStatus)
			if c.LastUpdateStatusReason != nil {
				fmt.Fprintf(out, " (%s)", aws.ToString(c.LastUpdateStatusReason))
			}
			fmt.Fprintf(out, "\nRuntime   %s   Handler %s   Memory %d MB   Timeout %d s\n",
				c.Runtime, aws.ToString(c.Handler), aws.ToInt32(c.MemorySize), aws.ToInt32(c.Timeout))
			if fn.Concurrency != nil && fn.Concurrency.ReservedConcurrentExecutions != nil {
				fmt.Fprintf(out, "Reserved concurrency %d\n", *fn.Concurrency.ReservedConcurrentExecutions)
			}

			fmt.Fprintln(out)
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "VERSION\tCODE SHA256\tLAST MODIFIED\tDESCRIPTION")
			for _, v := range versions {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", aws.ToString(v.Version), aws.ToString(v.CodeSha256), aws.ToString(v.LastModified), aws.ToString(v.Description))
			}
			tw.Flush()

			fmt.Fprintln(out)
			if len(aliases) == 0 {
				fmt.Fprintln(out, "No aliases: callers reach $LATEST only. Point production at an alias (sluice docs: walkthrough).")
				return nil
			}
			tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ALIAS\tTRAFFIC")
			for _, a := range aliases {
				fmt.Fprintf(tw, "%s\t%s\n", aws.ToString(a.Name), describeRouting(a))
			}
			return tw.Flush()
		},
	}
	cf.register(cmd)
	return cmd
}

// describeRouting renders an alias's split, e.g. "42 (97%) + 43 (3%)".
func describeRouting(a types.AliasConfiguration) string {
	primary := aws.ToString(a.FunctionVersion)
	if a.RoutingConfig == nil || len(a.RoutingConfig.AdditionalVersionWeights) == 0 {
		return primary + " (100%)"
	}
	keys := make([]string, 0, len(a.RoutingConfig.AdditionalVersionWeights))
	var extra float64
	for k, w := range a.RoutingConfig.AdditionalVersionWeights {
		keys = append(keys, k)
		extra += w
	}
	sort.Strings(keys)
	s := primary + " (" + percent(1-extra) + ")"
	for _, k := range keys {
		s += " + " + k + " (" + percent(a.RoutingConfig.AdditionalVersionWeights[k]) + ")"
	}
	return s
}

func percent(w float64) string { return strconv.FormatFloat(w*100, 'f', -1, 64) + "%" }
