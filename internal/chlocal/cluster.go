package chlocal

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// ClusterOptions configure StartCluster.
type ClusterOptions struct {
	// Dir holds one data directory per node (node1, node2, ...). Required.
	Dir string
	// Nodes is the number of nodes, one shard each (no replicas). Default 2.
	Nodes int
	// Name is the cluster's name in remote_servers. Default "sluice".
	Name string
	// Settings go into every node's default profile, so they apply to every
	// query of every client, e.g. "distributed_foreground_insert": "1" to
	// make a Distributed INSERT return only once the shards have the rows.
	Settings map[string]string
	// ZooKeeper, host:port, lets the nodes create ReplicatedMergeTree tables (see ZooKeeper).
	ZooKeeper string
}

// Cluster is a set of embedded servers that know each other as the shards of
// one cluster: Distributed tables, cluster() and remote() work across them.
// ON CLUSTER DDL, Keeper and replicated tables do not (clickhouse-local has
// no interserver listener); run the same DDL on every node instead.
type Cluster struct {
	name  string
	nodes []*Server
}

// StartCluster starts opts.Nodes servers in parallel and returns once all of
// them answer. Each node's config names every node's native port, and there
// is no config reload, so the ports are picked before anything starts.
func StartCluster(ctx context.Context, opts ClusterOptions) (*Cluster, error) {
	if opts.Dir == "" {
		return nil, errors.New("chlocal: ClusterOptions.Dir is required")
	}
	if opts.Nodes <= 0 {
		opts.Nodes = 2
	}
	if opts.Name == "" {
		opts.Name = "sluice"
	}
	ports, err := freePorts(2 * opts.Nodes)
	if err != nil {
		return nil, err
	}
	tcpPorts, httpPorts := ports[:opts.Nodes], ports[opts.Nodes:]
	c := &Cluster{name: opts.Name, nodes: make([]*Server, opts.Nodes)}
	errs := make([]error, opts.Nodes)
	var wg sync.WaitGroup
	for i := range opts.Nodes {
		wg.Go(func() {
			dir := filepath.Join(opts.Dir, fmt.Sprintf("node%d", i+1))
			errs[i] = writeNodeConfig(dir, opts, i, tcpPorts)
			if errs[i] == nil {
				c.nodes[i], errs[i] = Start(ctx, Options{
					DataDir: dir, TCPPort: tcpPorts[i], HTTPPort: httpPorts[i],
					Args: []string{"--config-file=" + filepath.Join(dir, nodeConfigName)},
				})
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		_ = c.Stop(context.WithoutCancel(ctx))
		return nil, err
	}
	return c, nil
}

// Name is the cluster's name, for Distributed(...) and cluster(...).
func (c *Cluster) Name() string { return c.name }

// Nodes are the servers, shard 1 first. Each can be stopped, killed,
// paused and restarted on its own (it keeps its ports and data).
func (c *Cluster) Nodes() []*Server { return c.nodes }

// Endpoints are the nodes' native-protocol URLs, shard 1 first.
func (c *Cluster) Endpoints() []string {
	eps := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		eps[i] = n.Endpoint()
	}
	return eps
}

// Stop stops every node that was started, in parallel.
func (c *Cluster) Stop(ctx context.Context) error {
	errs := make([]error, len(c.nodes))
	var wg sync.WaitGroup
	for i, n := range c.nodes {
		if n != nil {
			wg.Go(func() { errs[i] = n.Stop(ctx) })
		}
	}
	wg.Wait()
	return errors.Join(errs...)
}

const nodeConfigName = "cluster.xml"

// writeNodeConfig writes node i's config: the cluster (every node a shard
// of one replica), its macros, the default profile's settings, and the
// background pools chdb ships at 0, without which asynchronous Distributed
// inserts wait in system.distribution_queue forever, silently.
func writeNodeConfig(dir string, opts ClusterOptions, i int, tcpPorts []int) error {
	var b strings.Builder
	b.WriteString("<clickhouse>\n")
	b.WriteString("  <background_schedule_pool_size>16</background_schedule_pool_size>\n")
	b.WriteString("  <background_distributed_schedule_pool_size>4</background_distributed_schedule_pool_size>\n")
	fmt.Fprintf(&b, "  <remote_servers>\n    <%s>\n", opts.Name)
	for _, port := range tcpPorts {
		fmt.Fprintf(&b, "      <shard><replica><host>127.0.0.1</host><port>%d</port></replica></shard>\n", port)
	}
	fmt.Fprintf(&b, "    </%s>\n  </remote_servers>\n", opts.Name)
	if opts.ZooKeeper != "" {
		host, port, err := net.SplitHostPort(opts.ZooKeeper)
		if err != nil {
			return fmt.Errorf("chlocal: ClusterOptions.ZooKeeper: %w", err)
		}
		fmt.Fprintf(&b, "  <zookeeper><node><host>%s</host><port>%s</port></node></zookeeper>\n", host, port)
	}
	fmt.Fprintf(&b, "  <macros><cluster>%s</cluster><shard>%d</shard><replica>node%d</replica></macros>\n", opts.Name, i+1, i+1)
	b.WriteString("  <profiles>\n    <default>\n")
	for k, v := range opts.Settings {
		fmt.Fprintf(&b, "      <%s>", k)
		_ = xml.EscapeText(&b, []byte(v)) // writes to a strings.Builder cannot fail
		fmt.Fprintf(&b, "</%s>\n", k)
	}
	b.WriteString("    </default>\n  </profiles>\n")
	b.WriteString("  <users><default><password></password><networks><ip>::1</ip><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>\n")
	b.WriteString("  <quotas><default></default></quotas>\n")
	fmt.Fprintf(&b, "  <users_config>%s</users_config>\n", nodeConfigName)
	b.WriteString("</clickhouse>\n")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("chlocal: create node dir: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, nodeConfigName), []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("chlocal: write node config: %w", err)
	}
	return nil
}

// freePorts returns n distinct ports that were free a moment ago. Another
// process may take one before a node binds it; that node then fails to start
// with "Address already in use" in its log, which the caller sees.
func freePorts(n int) ([]int, error) {
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("chlocal: pick a free port: %w", err)
		}
		defer l.Close() // held until all are picked, so they are distinct
		_, p, _ := net.SplitHostPort(l.Addr().String())
		ports[i], _ = strconv.Atoi(p)
	}
	return ports, nil
}
