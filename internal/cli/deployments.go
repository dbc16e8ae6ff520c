package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"
)

// deploymentInfo is the part of CodeDeploy's deploymentInfo the CLI shows, with Sluice's extensions.
type deploymentInfo struct {
	DeploymentID         string `json:"deploymentId"`
	ApplicationName      string `json:"applicationName"`
	DeploymentGroupName  string `json:"deploymentGroupName"`
	DeploymentConfigName string `json:"deploymentConfigName"`
	Status               string `json:"status"`
	// StatusMessages say that a running deployment is paused or being promoted.
	StatusMessages   []string `json:"deploymentStatusMessages"`
	Creator          string   `json:"creator"`
	CreateTime       float64  `json:"createTime"`
	CompleteTime     float64  `json:"completeTime"`
	ErrorInformation *struct {
		Code, Message string
	} `json:"errorInformation"`
	RollbackInfo *struct {
		RollbackDeploymentID           string `json:"rollbackDeploymentId"`
		RollbackTriggeringDeploymentID string `json:"rollbackTriggeringDeploymentId"`
		RollbackMessage                string `json:"rollbackMessage"`
	} `json:"rollbackInfo"`
	Timeline []struct {
		Time   any      `json:"time"`
		Kind   string   `json:"kind"`
		Detail string   `json:"detail"`
		Weight *float64 `json:"weight"`
	} `json:"sluiceTimeline"`
	BlastRadius *struct {
		TargetInvocations int64 `json:"targetInvocations"`
		TargetErrors      int64 `json:"targetErrors"`
	} `json:"sluiceBlastRadius"`
}

func codeDeployCall(ctx context.Context, cfg aws.Config, op string, in, out any) error {
	body, _ := json.Marshal(in)
	b, err := signedCall(ctx, cfg, "codedeploy", http.MethodPost, "/", map[string]string{
		"X-Amz-Target": "CodeDeploy_20141006." + op, "Content-Type": "application/x-amz-json-1.1"}, body)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

func deploymentsCommand() *cobra.Command {
	var cf clientFlags
	var app, group string
	cmd := &cobra.Command{
		Use:   "deployments [show|pause|resume|skip|promote DEPLOYMENT_ID]",
		Short: "List deployments, show one with its timeline and blast radius, or pause, resume, skip the wait of or promote one",
		Long: `With no argument, lists deployments. With show ID, shows one: status, timeline, blast radius.

pause ID holds the canary at its current weight (hooks already running finish; an alarm still rolls it back);
resume ID lets it go on, the wait of the step it was paused in counting on from the resume; skip ID takes the
next traffic step now; promote ID sends all traffic to the new version once a running pre-traffic hook has
succeeded (the post-traffic hook still runs). Each is a Sluice extension of the CodeDeploy API, authorized as
codedeploy:PauseDeployment, codedeploy:ResumeDeployment, codedeploy:SkipWaitTime or codedeploy:PromoteDeployment,
and recorded in the deployment's timeline with who asked.`,
		Args: cobra.MaximumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			cfg, err := cf.awsConfig(ctx)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if len(args) == 2 && args[0] == "show" {
				var res struct {
					DeploymentInfo deploymentInfo `json:"deploymentInfo"`
				}
				if err := codeDeployCall(ctx, cfg, "GetDeployment", map[string]string{"deploymentId": args[1]}, &res); err != nil {
					return err
				}
				showDeployment(out, res.DeploymentInfo)
				return nil
			}
			if len(args) == 2 {
				if op, ok := trafficControls[args[0]]; ok {
					if err := codeDeployCall(ctx, cfg, op, map[string]string{"deploymentId": args[1]}, &struct{}{}); err != nil {
						return err
					}
					fmt.Fprintf(out, "%s: %s accepted; the deployment applies it at its next pass (see: sluice deployments show %s)\n", args[1], op, args[1])
					return nil
				}
			}
			if len(args) > 0 {
				return fmt.Errorf("usage: sluice deployments [show|pause|resume|skip|promote DEPLOYMENT_ID]")
			}
			in := map[string]string{}
			if app != "" {
				in["applicationName"] = app
			}
			if group != "" {
				in["deploymentGroupName"] = group
			}
			var list struct {
				Deployments []string `json:"deployments"`
			}
			if err := codeDeployCall(ctx, cfg, "ListDeployments", in, &list); err != nil {
				return err
			}
			if len(list.Deployments) == 0 {
				fmt.Fprintln(out, "No deployments.")
				return nil
			}
			var batch struct {
				DeploymentsInfo []deploymentInfo `json:"deploymentsInfo"`
			}
			if err := codeDeployCall(ctx, cfg, "BatchGetDeployments", map[string][]string{"deploymentIds": list.Deployments}, &batch); err != nil {
				return err
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "DEPLOYMENT\tAPPLICATION/GROUP\tCONFIG\tSTATUS\tCREATED\tTARGET INVOCATIONS/ERRORS")
			for _, d := range batch.DeploymentsInfo {
				br := "-"
				if d.BlastRadius != nil {
					br = fmt.Sprintf("%d/%d", d.BlastRadius.TargetInvocations, d.BlastRadius.TargetErrors)
				}
				fmt.Fprintf(tw, "%s\t%s/%s\t%s\t%s\t%s\t%s\n", d.DeploymentID, d.ApplicationName, d.DeploymentGroupName,
					d.DeploymentConfigName, statusShown(d), epoch(d.CreateTime), br)
			}
			return tw.Flush()
		},
	}
	cf.register(cmd)
	cmd.Flags().StringVar(&app, "application", "", "only this application's deployments")
	cmd.Flags().StringVar(&group, "group", "", "only this deployment group's deployments")
	return cmd
}

// statusShown is a deployment's status, marked when it is paused (its status stays InProgress; its status
// messages say it is paused).
func statusShown(d deploymentInfo) string {
	for _, m := range d.StatusMessages {
		if strings.HasPrefix(m, "Paused by ") {
			return d.Status + " (paused)"
		}
	}
	return d.Status
}

// trafficControls maps the deployments subcommands to the CodeDeploy extension operations they call.
var trafficControls = map[string]string{
	"pause":   "PauseDeployment",
	"resume":  "ResumeDeployment",
	"skip":    "SkipWaitTime",
	"promote": "PromoteDeployment",
}

func epoch(s float64) string {
	if s == 0 {
		return "-"
	}
	return time.Unix(0, int64(s*1e9)).Local().Format("2006-01-02 15:04:05")
}

func showDeployment(out io.Writer, d deploymentInfo) {
	fmt.Fprintf(out, "Deployment  %s (%s/%s)\n", d.DeploymentID, d.ApplicationName, d.DeploymentGroupName)
	fmt.Fprintf(out, "Config      %s\nStatus      %s", d.DeploymentConfigName, d.Status)
	if d.ErrorInformation != nil {
		fmt.Fprintf(out, " — %s: %s", d.ErrorInformation.Code, d.ErrorInformation.Message)
	}
	for _, m := range d.StatusMessages {
		fmt.Fprintf(out, "\n            %s", m)
	}
	fmt.Fprintf(out, "\nCreator     %s\nCreated     %s   Completed %s\n", d.Creator, epoch(d.CreateTime), epoch(d.CompleteTime))
	if r := d.RollbackInfo; r != nil {
		if r.RollbackDeploymentID != "" {
			fmt.Fprintf(out, "Rolled back by %s", r.RollbackDeploymentID)
		}
		if r.RollbackTriggeringDeploymentID != "" {
			fmt.Fprintf(out, "Rolls back %s", r.RollbackTriggeringDeploymentID)
		}
		if r.RollbackMessage != "" {
			fmt.Fprintf(out, " (%s)", r.RollbackMessage)
		}
		fmt.Fprintln(out)
	}
	if b := d.BlastRadius; b != nil {
		fmt.Fprintf(out, "Blast radius: the target version served %d invocations through the alias, %d of them errors\n", b.TargetInvocations, b.TargetErrors)
	}
	if len(d.Timeline) > 0 {
		fmt.Fprintln(out, "\nTimeline:")
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		for _, e := range d.Timeline {
			w := ""
			if e.Weight != nil {
				w = fmt.Sprintf("%g%%", *e.Weight*100)
			}
			// A detail's first line is its sentence; the lines after it (a failed hook's last log lines) go under it.
			first, more, _ := strings.Cut(e.Detail, "\n")
			fmt.Fprintf(tw, "  %v\t%s\t%s\t%s\n", timelineTime(e.Time), e.Kind, w, first)
			if more != "" {
				for _, l := range strings.Split(more, "\n") {
					fmt.Fprintf(tw, "  \t\t\t%s\n", l)
				}
			}
		}
		tw.Flush()
	}
}

// timelineTime renders a timeline entry's time, whether the API sent epoch seconds or RFC 3339.
func timelineTime(v any) string {
	switch t := v.(type) {
	case float64:
		return time.Unix(0, int64(t*1e9)).Local().Format("15:04:05.000")
	case string:
		if p, err := time.Parse(time.RFC3339Nano, t); err == nil {
			return p.Local().Format("15:04:05.000")
		}
		return t
	}
	return fmt.Sprint(v)
}
