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

// handVXLAN is the overlay alone: two namespaces on one veth with a VXLAN
// device each, no bridges and no pods. It separates what the encapsulation
// costs from what rudder's path adds.
func handVXLAN(b *testing.B) endpoints {
	prefix := netns.RunPrefix("rdrb")
	b.Cleanup(func() { _ = netns.Cleanup(prefix) })
	a, err := netns.Create(prefix + "-xa")
	if err != nil {
		b.Fatal(err)
	}
	c, err := netns.Create(prefix + "-xb")
	if err != nil {
		b.Fatal(err)
	}
	if err := netns.Veth(a, "ua", "198.19.254.1/30", c, "ub", "198.19.254.2/30"); err != nil {
		b.Fatal(err)
	}
	for _, end := range []struct {
		ns                 *netns.NS
		dev, local, remote string
		addr               string
	}{{a, "ua", "198.19.254.1", "198.19.254.2", "10.99.0.1/24"}, {c, "ub", "198.19.254.2", "198.19.254.1", "10.99.0.2/24"}} {
		for _, cmd := range [][]string{
			{"ip", "link", "add", "vx0", "type", "vxlan", "id", "42", "dstport", "4789", "local", end.local, "remote", end.remote, "dev", end.dev},
			{"ip", "addr", "add", end.addr, "dev", "vx0"},
			{"ip", "link", "set", "vx0", "up"},
		} {
			if _, err := end.ns.Run(cmd[0], cmd[1:]...); err != nil {
				b.Fatal(err)
			}
		}
	}
	return endpoints{server: c, client: a, serverIP: "10.99.0.2"}
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
	hand := median(b, handVXLAN(b))
	b.ReportMetric(hand, "hand-vxlan-Gbit/s")
	b.ReportMetric(hand/raw, "hand-vxlan-ratio")
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
