package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"

	"github.com/prometheus/client_golang/prometheus"

	"rudder/dns/nodelocal"
	"rudder/dns/stack"
)

// agentNodeLocalDNS is the node-local DNS cache: a caching forwarder on a
// link-local address (no conntrack for its traffic) that asks the cluster
// DNS over TCP. The kubelet's ClusterFirst resolv.conf then names it
// instead of the cluster DNS Service. The interface and rules stay when
// the agent stops, so pods keep their resolver across an agent restart
// (the restarted agent finds them in place).
func agentNodeLocalDNS(ctx context.Context, fl *agentFlags, reg prometheus.Registerer) (agentPart, error) {
	ip, err := netip.ParseAddr(fl.nodeLocalIP)
	if err != nil {
		return agentPart{}, fmt.Errorf("--node-local-dns-ip: %w", err)
	}
	if err := nodelocal.Setup(ctx, nodelocal.Config{IP: ip}); err != nil {
		return agentPart{}, err
	}
	s, err := stack.New(stack.Config{
		Listen:    []string{net.JoinHostPort(ip.String(), "53")},
		Upstreams: []string{net.JoinHostPort(fl.clusterDNS, "53")}, ForwardTCP: true,
		Cache: true, Name: "dns://nodelocal", Registerer: reg, Logger: slog.Default().With("part", "nodelocaldns"),
	})
	if err != nil {
		return agentPart{}, fmt.Errorf("node-local DNS: %w", err)
	}
	health := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if !s.Ready() {
			http.Error(w, "node-local DNS not serving", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	return agentPart{name: "node-local DNS", run: s.Run, health: health}, nil
}
