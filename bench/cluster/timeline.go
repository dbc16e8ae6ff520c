package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// timelineEntry is one entry of Sluice's sluiceTimeline extension of GetDeployment (which the SDK's typed client
// drops: it is read raw, as bench/deploy does).
type timelineEntry struct {
	Time float64 `json:"time"` // epoch seconds, to the millisecond
	Kind string  `json:"kind"`
}

// timelineAt returns when the deployment's timeline first has an entry of kind (zero if never).
func timelineAt(ctx context.Context, n *node, id, kind string) (time.Time, error) {
	body, _ := json.Marshal(map[string]string{"deploymentId": id})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+n.addr+"/", bytes.NewReader(body))
	if err != nil {
		return time.Time{}, err
	}
	req.Header.Set("X-Amz-Target", "CodeDeploy_20141006.GetDeployment")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}, req,
		hex.EncodeToString(sum[:]), "codedeploy", region, time.Now()); err != nil {
		return time.Time{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return time.Time{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return time.Time{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return time.Time{}, fmt.Errorf("GetDeployment %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	var out struct {
		DeploymentInfo struct {
			Timeline []timelineEntry `json:"sluiceTimeline"`
		} `json:"deploymentInfo"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return time.Time{}, err
	}
	for _, e := range out.DeploymentInfo.Timeline {
		if e.Kind == kind {
			return time.UnixMilli(int64(math.Round(e.Time * 1000))), nil
		}
	}
	return time.Time{}, nil
}
