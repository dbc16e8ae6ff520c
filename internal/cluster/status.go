package cluster

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// Status is what `sluice cluster status` shows: every live node and the jobs' leaders.
type Status struct {
	// Mode is "cluster" (etcd) or "embedded" (one node on its own store).
	Mode    string            `json:"mode"`
	Nodes   []NodeStatus      `json:"nodes"`
	Leaders map[string]string `json:"leaders"` // job → node name
}

// NodeStatus is one node as it reports itself.
type NodeStatus struct {
	Node
	Environments int      `json:"environments"` // execution environments alive on the node
	InFlight     int      `json:"inFlight"`     // invocations running on it
	Leading      []string `json:"leading"`
	Draining     bool     `json:"draining,omitempty"`
	// Error says why the node could not be asked (it is in the member list but did not answer).
	Error string `json:"error,omitempty"`
}

// NodePath is the internal endpoint where a node reports its NodeStatus to its peers.
const NodePath = "/_sluice/cluster/node"

// Describe gathers the cluster's status: this node's from local, every peer's from its NodePath (asked
// concurrently, each within a second), and the leaders from etcd.
func (c *Cluster) Describe(ctx context.Context, local func() NodeStatus) (Status, error) {
	leaders, err := c.Leaders(ctx)
	if err != nil {
		return Status{}, err
	}
	nodes := c.Nodes()
	out := make([]NodeStatus, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		if n.Name == c.self.Name {
			out[i] = local()
			continue
		}
		wg.Go(func() {
			out[i] = NodeStatus{Node: n}
			ctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			resp, err := c.Call(ctx, n, http.MethodGet, NodePath, nil)
			if err != nil {
				out[i].Error = err.Error()
				return
			}
			defer resp.Body.Close()
			if err := json.NewDecoder(resp.Body).Decode(&out[i]); err != nil {
				out[i].Error = "malformed answer: " + err.Error()
			}
		})
	}
	wg.Wait()
	return Status{Mode: "cluster", Nodes: out, Leaders: leaders}, nil
}

// ServeNode answers a peer's NodePath request with this node's status.
func ServeNode(local func() NodeStatus) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(local())
	})
}

// The jobs a Sluice cluster runs once, each on the node holding its leadership.
const (
	JobDeployments = "deployments" // the CodeDeploy controller
	JobAlarms      = "alarms"      // the alarm evaluator
	JobSettle      = "settle"      // the control plane's processor (Pending → Active, code extraction)
	JobAsync       = "async"       // asynchronous invocation dispatch
	JobInactivity  = "inactivity"  // functions idle past --inactive-after turn Inactive
	JobStacks      = "stacks"      // the CloudFormation API's controller: stack operations and change sets
	// JobNotifications delivers SNS messages.
	JobNotifications = "sns"
)

// Jobs lists them, sorted.
var Jobs = []string{JobAlarms, JobAsync, JobDeployments, JobInactivity, JobSettle, JobNotifications, JobStacks}
