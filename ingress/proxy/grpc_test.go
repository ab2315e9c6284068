package proxy

import (
	"context"
	"crypto/tls"
	"net"
	"net/netip"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"rudder/ingress/route"
)

// grpcBackend serves the gRPC health service over h2c on loopback.
func grpcBackend(t *testing.T) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	hs := health.NewServer()
	hs.SetServingStatus("rudder.Test", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(srv, hs)
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	return netip.MustParseAddrPort(ln.Addr().String())
}

func TestGRPC(t *testing.T) {
	tp := startProxy(t, Config{H2C: true})
	tp.p.Swap(table(backendOf(grpcBackend(t)), &route.Policy{Protocol: route.GRPC}))
	for _, tc := range []struct {
		name  string
		addr  string
		creds credentials.TransportCredentials
	}{
		{"tls+h2", tp.httpsAddr, credentials.NewTLS(&tls.Config{InsecureSkipVerify: true})},
		{"h2c", tp.httpAddr, insecure.NewCredentials()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := grpc.NewClient(tc.addr, grpc.WithTransportCredentials(tc.creds), grpc.WithAuthority("grpc.example"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			hc := healthpb.NewHealthClient(conn)
			resp, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: "rudder.Test"})
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				t.Fatalf("status %v, want SERVING", resp.GetStatus())
			}
			_, err = hc.Check(ctx, &healthpb.HealthCheckRequest{Service: "no.Such"})
			if status.Code(err) != codes.NotFound {
				t.Fatalf("unknown service: got %v, want NotFound", err)
			}
		})
	}
}
