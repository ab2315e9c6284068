// Package packetpath measures TCP stream throughput along rudder's pod
// paths against a raw veth pair between two namespaces, measured in the
// same run:
//
//	go test -run '^$' -bench . -benchtime 1x ./bench/packetpath
package packetpath

import (
	"context"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"rudder/bench/iperf"
	"rudder/cni/cnitest"
	"rudder/cni/netd/netstate"
	"rudder/lab/netns"
)

// runs per path; the median is reported.
func runs() int {
	if n, err := strconv.Atoi(os.Getenv("BENCH_RUNS")); err == nil && n > 0 {
		return n
	}
	return 3
}

func duration() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("BENCH_DURATION")); err == nil {
		return d
	}
	return 5 * time.Second
}

// endpoints are the two ends of one measured path.
type endpoints struct {
	server, client *netns.NS
	serverIP       string
}

// median runs the stream test runs() times and returns the median Gbit/s.
func median(b *testing.B, e endpoints) float64 {
	var vals []float64
	for i := 0; i < runs(); i++ {
		res, err := iperf.Stream(context.Background(), iperf.Config{Server: e.server, Client: e.client,
			ServerIP: e.serverIP, Duration: duration(), ServerCPU: 0, ClientCPU: 1})
		if err != nil {
			b.Fatal(err)
		}
		vals = append(vals, res.BitsPerSecond/1e9)
	}
	slices.Sort(vals)
	return vals[len(vals)/2]
}

func rawVeth(b *testing.B) endpoints {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	prefix := netns.RunPrefix("rdrb")
	b.Cleanup(func() { _ = netns.Cleanup(prefix) })
	a, err := netns.Create(prefix + "-a")
	if err != nil {
		b.Fatal(err)
	}
	c, err := netns.Create(prefix + "-b")
	if err != nil {
		b.Fatal(err)
	}
	if err := netns.Veth(a, "va", "198.19.255.1/30", c, "vb", "198.19.255.2/30"); err != nil {
		b.Fatal(err)
	}
	return endpoints{server: c, client: a, serverIP: "198.19.255.2"}
}

// podPath builds a cluster and returns two pods: on one node, or on two.
func podPath(b *testing.B, plugin string, backend netstate.Backend, nodes int) endpoints {
	c := cnitest.NewCluster(b, cnitest.Config{Nodes: nodes, Backend: backend, PluginDir: plugin})
	src := c.Nodes[0].AddPod(b, "client")
	dst := c.Nodes[nodes-1].AddPod(b, "server")
	return endpoints{server: asNS(dst), client: asNS(src), serverIP: dst.IP.String()}
}

func asNS(p *cnitest.Pod) *netns.NS { return &netns.NS{Name: p.Name, Path: p.NS.Path()} }

// BenchmarkPodThroughput reports Gbit/s per path and its ratio to the raw
// veth pair measured first.
func BenchmarkPodThroughput(b *testing.B) {
	raw := median(b, rawVeth(b))
	b.ReportMetric(raw, "raw-veth-Gbit/s")
	plugin := cnitest.BuildPlugin(b)
	paths := []struct {
		name    string
		backend netstate.Backend
		nodes   int
	}{
		{"same-node", netstate.VXLAN, 1},
		{"vxlan", netstate.VXLAN, 2},
		{"host-gw", netstate.HostGW, 2},
	}
	for _, p := range paths {
		gbps := median(b, podPath(b, plugin, p.backend, p.nodes))
		b.ReportMetric(gbps, p.name+"-Gbit/s")
		b.ReportMetric(gbps/raw, p.name+"-ratio")
	}
}
