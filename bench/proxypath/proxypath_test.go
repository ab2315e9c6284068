// Package proxypath measures the service proxy's backends in a real node
// namespace: full-sync and one-change time with 10, 1,000 and 10,000
// services, new-connection latency through a ClusterIP at 10 versus 10,000
// services, and stream throughput through a ClusterIP against the direct
// pod address, in one run:
//
//	go test -run '^$' -bench . -benchtime 1x ./bench/proxypath
package proxypath

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/containernetworking/plugins/pkg/ns"

	"rudder/bench/iperf"
	"rudder/cni/cnitest"
	"rudder/cni/netd/netstate"
	"rudder/lab/netns"
	"rudder/proxy/iptables"
	"rudder/proxy/model"
	"rudder/proxy/nftables"
	"rudder/proxy/proxier"
)

var vip = netip.MustParseAddr("10.96.0.100")

// state is n services: the measured one (vip:80 → server:8080, vip:5201 →
// server:5201) plus n-1 fillers of two endpoints each.
func state(n int, server netip.Addr, nodeIP netip.Addr, variant int) *model.State {
	st := &model.State{Node: model.Node{Name: "n1", NodePortAddresses: []netip.Addr{nodeIP},
		ClusterCIDRs: []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")}}}
	for _, p := range []struct {
		name       string
		port, dest uint16
	}{{"http", 80, 8080}, {"iperf", 5201, 5201}} {
		ep := model.Endpoint{Addr: netip.AddrPortFrom(server, p.dest), Ready: true, Serving: true, Local: true, NodeName: "n1"}
		st.Services = append(st.Services, servicePort("zz-measured", "measured", p.name, vip, p.port, ep)) // sorts last: the worst case for linear rule lists
	}
	for i := 0; i < n-1; i++ {
		ip := netip.AddrFrom4([4]byte{10, 100 + byte(i>>16), byte(i >> 8), byte(i)})
		e1 := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 245, byte(i >> 8), byte(i)}), 8080)
		e2 := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 246, byte(i >> 8), byte(i + variant)}), 8080)
		st.Services = append(st.Services, servicePort("fill", fmt.Sprintf("s%05d", i), "", ip, 80,
			model.Endpoint{Addr: e1, Ready: true, Serving: true}, model.Endpoint{Addr: e2, Ready: true, Serving: true}))
	}
	slices.SortFunc(st.Services, func(a, b model.ServicePort) int { return model.ComparePortNames(a.Name, b.Name) })
	return st
}

func servicePort(ns, name, port string, ip netip.Addr, p uint16, eps ...model.Endpoint) model.ServicePort {
	sp := model.ServicePort{Name: model.ServicePortName{Port: port, Protocol: model.TCP}, ClusterIPs: []netip.Addr{ip}, Port: p,
		Endpoints: eps, ClusterEndpoints: eps}
	sp.Name.Namespace, sp.Name.Name = ns, name
	return sp
}

// lab is one node with a client and a server pod.
type lab struct {
	node           *cnitest.Node
	client, server *cnitest.Pod
}

func newLab(b *testing.B) *lab {
	c := cnitest.NewCluster(b, cnitest.Config{Nodes: 1, Backend: netstate.VXLAN, PluginDir: cnitest.BuildPlugin(b)})
	l := &lab{node: c.Nodes[0]}
	l.client, l.server = l.node.AddPod(b, "client"), l.node.AddPod(b, "server")
	serveHTTP(b, l.server)
	return l
}

func serveHTTP(b *testing.B, p *cnitest.Pod) {
	var ln net.Listener
	if err := p.NS.Do(func(ns.NetNS) error {
		var err error
		ln, err = net.Listen("tcp4", ":8080")
		return err
	}); err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = srv.Close() })
}

// inNode runs f in the node's namespace (backends exec nft and
// iptables-restore from the calling thread).
func (l *lab) inNode(f func() error) error {
	return l.node.NS.Do(func(ns.NetNS) error { return f() })
}

type backendCase struct {
	name string
	make func() (proxier.Backend, error)
}

func backends() []backendCase {
	return []backendCase{
		{"nftables", func() (proxier.Backend, error) { return nftables.New(nftables.Config{}) }},
		{"iptables-legacy", func() (proxier.Backend, error) { return iptables.New(iptables.Config{Mode: iptables.ModeLegacy}) }},
		{"iptables-nft", func() (proxier.Backend, error) { return iptables.New(iptables.Config{Mode: iptables.ModeNFT}) }},
	}
}

// crr measures connect + request + close latency p50 through the
// ClusterIP, in milliseconds.
func (l *lab) crr(b *testing.B, n int) float64 {
	var d []float64
	for i := 0; i < n; i++ {
		start := time.Now()
		var c net.Conn
		err := l.client.NS.Do(func(ns.NetNS) error {
			var err error
			c, err = net.DialTimeout("tcp4", netip.AddrPortFrom(vip, 80).String(), 2*time.Second)
			return err
		})
		if err != nil {
			b.Fatalf("CRR connect %d: %v", i, err)
		}
		_, _ = io.WriteString(c, "GET / HTTP/1.0\r\n\r\n")
		_, _ = io.ReadAll(c)
		c.Close()
		d = append(d, float64(time.Since(start).Microseconds())/1000)
	}
	slices.Sort(d)
	return d[len(d)/2]
}

// BenchmarkBackends: per backend and service count, full sync and one
// change; CRR p50 at 10 and 10,000 services.
func BenchmarkBackends(b *testing.B) {
	l := newLab(b)
	nodeIP := l.node.Addr.Addr()
	for _, bc := range backends() {
		crr := map[int]float64{}
		for _, n := range []int{10, 1000, 10000} {
			be, err := bc.make()
			if err != nil {
				b.Fatal(err)
			}
			full, change := l.syncTimes(b, be, n, nodeIP)
			b.ReportMetric(full, fmt.Sprintf("%s-%d-full-ms", bc.name, n))
			b.ReportMetric(change, fmt.Sprintf("%s-%d-change-ms", bc.name, n))
			if n != 1000 {
				crr[n] = l.crr(b, 300)
				b.ReportMetric(crr[n], fmt.Sprintf("%s-%d-crr-p50-ms", bc.name, n))
			}
			if err := l.inNode(func() error { return be.Cleanup(context.Background()) }); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(crr[10000]/crr[10], bc.name+"-crr-ratio-10k/10")
	}
}

func (l *lab) syncTimes(b *testing.B, be proxier.Backend, n int, nodeIP netip.Addr) (fullMS, changeMS float64) {
	ctx := context.Background()
	st := state(n, l.server.IP, nodeIP, 0)
	start := time.Now()
	if err := l.inNode(func() error { return be.Sync(ctx, st, nil, true) }); err != nil {
		b.Fatalf("%s full sync of %d services: %v", be.Name(), n, err)
	}
	fullMS = float64(time.Since(start).Microseconds()) / 1000
	next := state(n, l.server.IP, nodeIP, 0)
	if n > 1 {
		next = state(n, l.server.IP, nodeIP, 0)
		last := &next.Services[0] // a filler (the measured ports sort last)
		ep := last.ClusterEndpoints[1]
		ep.Addr = netip.AddrPortFrom(netip.MustParseAddr("10.247.0.1"), 8080)
		last.ClusterEndpoints = []model.Endpoint{last.ClusterEndpoints[0], ep}
		last.Endpoints = last.ClusterEndpoints
	}
	changed := model.Diff(st, next)
	start = time.Now()
	if err := l.inNode(func() error { return be.Sync(ctx, next, changed, false) }); err != nil {
		b.Fatalf("%s one change at %d services: %v", be.Name(), n, err)
	}
	return fullMS, float64(time.Since(start).Microseconds()) / 1000
}

// BenchmarkClusterIPStream: iperf3 through the ClusterIP (nftables, 10
// services) against the pod's own address.
func BenchmarkClusterIPStream(b *testing.B) {
	l := newLab(b)
	be, err := nftables.New(nftables.Config{})
	if err != nil {
		b.Fatal(err)
	}
	if err := l.inNode(func() error {
		return be.Sync(context.Background(), state(10, l.server.IP, l.node.Addr.Addr(), 0), nil, true)
	}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = l.inNode(func() error { return be.Cleanup(context.Background()) }) })
	srv := &netns.NS{Name: l.server.Name, Path: l.server.NS.Path()}
	cli := &netns.NS{Name: l.client.Name, Path: l.client.NS.Path()}
	// Interleaved runs, so that drift of the machine hits both alike.
	var direct, viaVIP []float64
	for i := 0; i < 5; i++ {
		for _, t := range []struct {
			ip  string
			out *[]float64
		}{{l.server.IP.String(), &direct}, {vip.String(), &viaVIP}} {
			res, err := iperf.Stream(context.Background(), iperf.Config{Server: srv, Client: cli, ServerIP: t.ip, Duration: 5 * time.Second, ServerCPU: 0, ClientCPU: 1})
			if err != nil {
				b.Fatal(err)
			}
			*t.out = append(*t.out, res.BitsPerSecond/1e9)
		}
	}
	median := func(v []float64) float64 { slices.Sort(v); return v[len(v)/2] }
	d, c := median(direct), median(viaVIP)
	b.ReportMetric(d, "direct-Gbit/s")
	b.ReportMetric(c, "clusterip-Gbit/s")
	b.ReportMetric(c/d, "clusterip-ratio")
}
