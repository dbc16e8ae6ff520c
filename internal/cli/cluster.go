package cli

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sluice-dev/sluice/internal/cluster"
	"github.com/sluice-dev/sluice/internal/server"
	"github.com/sluice-dev/sluice/internal/stack"
)

// defaultClusterDrainDelay gives a load balancer checking /_sluice/health every second two checks to take a
// stopping node out before it closes its listener.
const defaultClusterDrainDelay = 3 * time.Second

// etcdFlags are serve's cluster flags, named as etcd's own clients name them.
type etcdFlags struct {
	endpoints          []string
	prefix             string
	nodeName, advertis string
	cacert, cert, key  string
	user, password     string
	maxTxnOps, ttl     int
}

func (e *etcdFlags) register(f *pflag.FlagSet) {
	f.StringSliceVar(&e.endpoints, "etcd-endpoints", nil, "join a cluster whose state lives in this etcd (comma-separated client URLs); without it, one node on the embedded store")
	f.StringVar(&e.prefix, "etcd-prefix", "/sluice", "etcd key prefix of the cluster's state (nodes sharing it form one cluster)")
	f.StringVar(&e.nodeName, "node-name", "", "this node's name in the cluster (default: the host name)")
	f.StringVar(&e.advertis, "advertise-url", "", "URL the other nodes reach this one at (default: http://<listen address>)")
	f.StringVar(&e.cacert, "etcd-cacert", "", "CA bundle that verifies etcd's TLS certificate")
	f.StringVar(&e.cert, "etcd-cert", "", "client certificate for etcd (with --etcd-key)")
	f.StringVar(&e.key, "etcd-key", "", "client key for etcd")
	f.StringVar(&e.user, "etcd-user", "", "etcd user, as user or user:password")
	f.StringVar(&e.password, "etcd-password", "", "etcd password (or in --etcd-user)")
	f.IntVar(&e.maxTxnOps, "etcd-max-txn-ops", 128, "etcd's --max-txn-ops (run etcd with 1024 and say so here)")
	f.IntVar(&e.ttl, "lease-ttl", 5, "seconds a node that died keeps its cluster jobs before another node takes them")
}

// config turns the flags into the server's cluster configuration; nil without --etcd-endpoints.
func (e *etcdFlags) config() (*server.ClusterConfig, error) {
	if len(e.endpoints) == 0 {
		return nil, nil
	}
	c := &server.ClusterConfig{Endpoints: e.endpoints, Prefix: e.prefix, NodeName: e.nodeName, AdvertiseURL: e.advertis,
		Username: e.user, Password: e.password, MaxTxnOps: e.maxTxnOps, LeaseTTL: e.ttl}
	if user, pass, ok := strings.Cut(e.user, ":"); ok && e.password == "" {
		c.Username, c.Password = user, pass
	}
	if e.cacert != "" || e.cert != "" || e.key != "" {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if e.cacert != "" {
			pem, err := os.ReadFile(e.cacert)
			if err != nil {
				return nil, fmt.Errorf("--etcd-cacert: %w", err)
			}
			tc.RootCAs = x509.NewCertPool()
			if !tc.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("--etcd-cacert %s: no PEM certificate in it", e.cacert)
			}
		}
		if (e.cert == "") != (e.key == "") {
			return nil, fmt.Errorf("--etcd-cert and --etcd-key go together")
		}
		if e.cert != "" {
			pair, err := tls.LoadX509KeyPair(e.cert, e.key)
			if err != nil {
				return nil, fmt.Errorf("--etcd-cert/--etcd-key: %w", err)
			}
			tc.Certificates = []tls.Certificate{pair}
		}
		c.TLS = tc
	}
	return c, nil
}

func clusterCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "cluster", Short: "Inspect the cluster of Sluice nodes"}
	var cf clientFlags
	status := &cobra.Command{
		Use:   "status",
		Short: "List the nodes (URL, version, up since, environments, in-flight invocations) and which jobs each leads",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg, err := cf.awsConfig(ctx)
			if err != nil {
				return err
			}
			st, err := stack.NewClient(cfg).DescribeCluster(ctx)
			if err != nil {
				return err
			}
			printClusterStatus(cmd, st, time.Now())
			return nil
		},
	}
	cf.register(status)
	cmd.AddCommand(status)
	return cmd
}

func printClusterStatus(cmd *cobra.Command, st cluster.Status, now time.Time) {
	out := cmd.OutOrStdout()
	if st.Mode == "embedded" {
		fmt.Fprintln(out, "Mode  embedded: one node on its own store (start nodes with --etcd-endpoints for a cluster)")
	} else {
		fmt.Fprintf(out, "Mode  cluster: %d live node(s) sharing one etcd\n", len(st.Nodes))
	}
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tURL\tVERSION\tUP\tENVIRONMENTS\tIN FLIGHT\tLEADS")
	for _, n := range st.Nodes {
		if n.Error != "" {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t-\t-\tunreachable: %s\n", n.Name, n.URL, n.Version, since(now, n.Started), n.Error)
			continue
		}
		leads := strings.Join(n.Leading, ",")
		if leads == "" {
			leads = "-"
		}
		if n.Draining {
			leads += " (draining)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\n", n.Name, n.URL, n.Version, since(now, n.Started), n.Environments, n.InFlight, leads)
	}
	tw.Flush()
	var unled []string
	for _, j := range cluster.Jobs {
		if _, ok := st.Leaders[j]; !ok {
			unled = append(unled, j)
		}
	}
	if len(unled) > 0 {
		fmt.Fprintf(out, "\nNo leader now for: %s (a node is taking over, or none can)\n", strings.Join(unled, ", "))
	}
}

// since says how long ago t was, coarsely ("3m", "2h", "5d").
func since(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}
