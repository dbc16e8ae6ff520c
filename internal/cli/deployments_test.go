package cli

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestDeploymentsTrafficControls: each of `sluice deployments pause|resume|skip|promote ID` sends its extension
// operation with the deployment's ID and says it was accepted; a refusal is the one error line.
func TestDeploymentsTrafficControls(t *testing.T) {
	noAWSEnvironment(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE00")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "s3cr3t")
	var mu sync.Mutex
	var got []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		target := r.Header.Get("X-Amz-Target")
		mu.Lock()
		got = append(got, target+" "+string(body))
		mu.Unlock()
		if strings.Contains(string(body), "d-DONE00001") {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"__type":"DeploymentAlreadyCompletedException","message":"Deployment d-DONE00001 has already completed."}`)
			return
		}
		fmt.Fprint(w, `{}`)
	}))
	defer api.Close()
	for _, tc := range []struct {
		sub, op string
	}{{"pause", "PauseDeployment"}, {"resume", "ResumeDeployment"}, {"skip", "SkipWaitTime"}, {"promote", "PromoteDeployment"}} {
		var stdout, stderr bytes.Buffer
		got = nil
		args := []string{"deployments", tc.sub, "d-ABCDEFGH1", "--endpoint-url", api.URL, "--data-dir", t.TempDir()}
		if code := Execute(t.Context(), args, &stdout, &stderr); code != 0 {
			t.Fatalf("%s: exit %d: %s", tc.sub, code, stderr.String())
		}
		if want := "CodeDeploy_20141006." + tc.op + ` {"deploymentId":"d-ABCDEFGH1"}`; len(got) != 1 || got[0] != want {
			t.Fatalf("%s sent %q, want %q", tc.sub, got, want)
		}
		if want := "d-ABCDEFGH1: " + tc.op + " accepted"; !strings.HasPrefix(stdout.String(), want) {
			t.Fatalf("%s printed %q, want it to start %q", tc.sub, stdout.String(), want)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := Execute(t.Context(), []string{"deployments", "resume", "d-DONE00001", "--endpoint-url", api.URL, "--data-dir", t.TempDir()}, &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d for a refused resume", code)
	}
	if want := "sluice: DeploymentAlreadyCompletedException: Deployment d-DONE00001 has already completed.\n"; stderr.String() != want {
		t.Fatalf("stderr %q, want %q", stderr.String(), want)
	}
	if code := Execute(t.Context(), []string{"deployments", "halt", "d-ABCDEFGH1", "--endpoint-url", api.URL}, &stdout, &stderr); code == 0 {
		t.Fatal("an unknown subcommand was accepted")
	}
}

func TestStatusShownMarksAPause(t *testing.T) {
	for _, tc := range []struct {
		d    deploymentInfo
		want string
	}{
		{deploymentInfo{Status: "InProgress"}, "InProgress"},
		{deploymentInfo{Status: "InProgress", StatusMessages: []string{"Paused by arn:aws:iam::000000000000:root at 2026-12-07T13:00:00Z: …"}}, "InProgress (paused)"},
		{deploymentInfo{Status: "InProgress", StatusMessages: []string{"Promoted: all traffic goes to version 3 …"}}, "InProgress"},
	} {
		if got := statusShown(tc.d); got != tc.want {
			t.Errorf("statusShown(%+v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
