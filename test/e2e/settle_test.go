package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMinSettleTimeNeedsTheWaiter is the seed's §6 lesson, against `sluice serve --min-settle-time`: the README's
// "Respect the state machine" steps without the waiters (its block marked <!-- e2e: min-settle -->, as printed,
// with the AWS CLI v1) re-upload an unchanged package and change the configuration at once, and get the 409 AWS
// gives; the walkthrough's block with the waiters passes on the same server. The minimum (10 s) is far longer than
// the CLI takes to start its second command, so the second call lands inside it however loaded the machine is.
func TestMinSettleTimeNeedsTheWaiter(t *testing.T) {
	parallel(t)
	cliV1(t)
	b, err := os.ReadFile(filepath.Join(moduleRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	without := markedBlocks(t, readme, "min-settle")
	if len(without) != 1 {
		t.Fatalf("README.md has %d blocks marked <!-- e2e: min-settle -->, want 1", len(without))
	}
	var with string
	for _, block := range markedBlocks(t, readme, "walkthrough") {
		if strings.Contains(block, "update-function-configuration") && strings.Contains(block, "wait function-updated-v2") {
			with = block
		}
	}
	if with == "" {
		t.Fatal(`README.md's walkthrough has no block updating the configuration after "wait function-updated-v2"`)
	}

	const minSettle = 10 * time.Second
	srv := startServer(t, "--min-settle-time", minSettle.String())
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "build.zip"), bootstrapZip(t, "min settle"))
	if out, errOut, code := runBash(t, srv, false, dir, `
aws lambda create-function --function-name orders-demo --runtime provided.al2023 --handler bootstrap \
  --role arn:aws:iam::000000000000:role/orders --zip-file fileb://build.zip --query State --output text
aws lambda wait function-active-v2 --function-name orders-demo
`); code != 0 || strings.TrimSpace(out) != "Pending" {
		t.Fatalf("create-function (want State Pending) and its waiter: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}

	// Without the waiter: the unchanged package's update is still InProgress when the configuration change comes —
	// when the second command starts within the minimum, which a machine loaded enough to take longer than that
	// between two CLI commands cannot show: then the steps run again, after a waiter.
	var errOut string
	var code int
	for attempt := 1; ; attempt++ {
		began := time.Now()
		_, errOut, code = runBash(t, srv, false, dir, without[0])
		if code != 0 || time.Since(began) < minSettle || attempt == 3 {
			break
		}
		t.Logf("attempt %d: both commands passed, but they took %s, longer than the minimum settle time; again", attempt, time.Since(began))
		if out, e, c := runBash(t, srv, false, dir, "aws lambda wait function-updated-v2 --function-name orders-demo"); c != 0 {
			t.Fatalf("waiter: exit %d\n%s\n%s", c, out, e)
		}
	}
	checkCLIError(t, "the README's steps without the waiter", errOut, code, wantErr{Code: "ResourceConflictException",
		Message: "The operation cannot be performed at this time. An update is in progress for resource: " + arnPrefix + "orders-demo"}, false)
	if !strings.Contains(errOut, "when calling the UpdateFunctionConfiguration operation") {
		t.Errorf("the 409 came from another call than UpdateFunctionConfiguration:\n%s", errOut)
	}

	// With the waiters, the same steps pass (the first one waits out the update the failed script left).
	out, errOut, code := runBash(t, srv, false, dir, "aws lambda wait function-updated-v2 --function-name orders-demo\n"+with)
	if code != 0 {
		t.Fatalf("the README's steps with the waiters: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !strings.Contains(out, `"Version": "1"`) || !strings.Contains(out, `"LOG_LEVEL": "INFO"`) {
		t.Errorf("publish-version after the waiters did not publish version 1 with LOG_LEVEL=INFO:\n%s", out)
	}
}
