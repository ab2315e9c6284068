package prober

import (
	"context"
	"fmt"
	"net"
	"time"

	corev1 "k8s.io/api/core/v1"
)

func probeTCP(ctx context.Context, s *corev1.TCPSocketAction, t Target, timeout time.Duration) (Result, string) {
	addr, err := hostPort(s.Host, t.PodIP, s.Port, t.Container)
	if err != nil {
		return Unknown, fmt.Sprintf("tcpSocket probe: %v", err)
	}
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return Failure, err.Error()
	}
	_ = conn.Close()
	return Success, ""
}
