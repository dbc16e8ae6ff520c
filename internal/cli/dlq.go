package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// deadLettersPath is Sluice's own endpoint listing a function's dead letters. It is lambdaapi.DeadLettersPath,
// repeated here because the CLI is a client of the wire protocol and imports no server edge; a test checks that
// the two agree.
const deadLettersPath = "/sluice/2026-11-26/functions/{FunctionName}/dead-letters"

func dlqCommand() *cobra.Command {
	var cf clientFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "dlq FUNCTION",
		Short: "List a function's dead letters: asynchronous invocations that exhausted their retries",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			cfg, err := cf.awsConfig(ctx)
			if err != nil {
				return err
			}
			if cfg.BaseEndpoint == nil {
				return fmt.Errorf("no Sluice endpoint: set AWS_ENDPOINT_URL or --endpoint-url")
			}
			path := strings.Replace(deadLettersPath, "{FunctionName}", url.PathEscape(args[0]), 1)
			body, err := signedCall(ctx, cfg, "lambda", http.MethodGet, path, nil, nil)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				_, err := out.Write(append(body, '\n'))
				return err
			}
			var page struct {
				DeadLetters []struct {
					RequestId, FailedAt, Condition, Error string
					Attempts                              int
					Payload                               json.RawMessage
				}
			}
			if err := json.Unmarshal(body, &page); err != nil {
				return err
			}
			if len(page.DeadLetters) == 0 {
				fmt.Fprintln(out, "No dead letters.")
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "REQUEST ID\tFAILED AT\tCONDITION\tATTEMPTS\tPAYLOAD\tERROR")
			for _, d := range page.DeadLetters {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", d.RequestId, d.FailedAt, d.Condition, d.Attempts, d.Payload, oneLine(d.Error))
			}
			return tw.Flush()
		},
	}
	cf.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the API's JSON")
	return cmd
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
