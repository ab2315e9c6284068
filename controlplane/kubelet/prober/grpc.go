package prober

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"
)

// probeGRPC calls grpc.health.v1.Health/Check on the pod IP and port,
// without TLS, as upstream; only SERVING is a success.
func (pr *Prober) probeGRPC(ctx context.Context, g *corev1.GRPCAction, t Target, timeout time.Duration) (Result, string) {
	if t.PodIP == "" {
		return Unknown, "grpc probe: the pod has no IP"
	}
	if g.Port <= 0 || g.Port > 65535 {
		return Unknown, fmt.Sprintf("grpc probe: invalid port number: %d", g.Port)
	}
	service := ""
	if g.Service != nil {
		service = *g.Service
	}
	addr := net.JoinHostPort(t.PodIP, strconv.Itoa(int(g.Port)))
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUserAgent(pr.userAgent))
	if err != nil {
		return Unknown, fmt.Sprintf("grpc probe: connect to %s: %v", addr, err)
	}
	defer conn.Close()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service}, grpc.WaitForReady(true))
	if err != nil {
		switch status.Code(err) {
		case codes.Unimplemented:
			return Failure, "this server does not implement the grpc health protocol (grpc.health.v1.Health)"
		case codes.DeadlineExceeded:
			return Failure, fmt.Sprintf("timeout: health rpc did not complete within %v", timeout)
		default:
			return Failure, fmt.Sprintf("error: health rpc probe failed: %v", err)
		}
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return Failure, fmt.Sprintf("service unhealthy (responded with %q)", resp.GetStatus().String())
	}
	return Success, ""
}
