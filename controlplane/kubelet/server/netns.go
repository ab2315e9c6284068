package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"

	"github.com/containernetworking/plugins/pkg/ns"
)

// DialInNetNS connects to 127.0.0.1:port from inside the network namespace
// at netnsPath (a pod's). Only the socket is created in the namespace:
// the connection can be used from any goroutine.
func DialInNetNS(ctx context.Context, netnsPath string, port int32) (net.Conn, error) {
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("dial in %s: port %d out of range", netnsPath, port)
	}
	target, err := ns.GetNS(netnsPath)
	if err != nil {
		return nil, fmt.Errorf("dial in %s: %w", netnsPath, err)
	}
	defer target.Close()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port)))
	var conn net.Conn
	err = target.Do(func(ns.NetNS) error {
		var d net.Dialer
		var derr error
		conn, derr = d.DialContext(ctx, "tcp4", addr)
		return derr
	})
	if err != nil {
		return nil, fmt.Errorf("dial %s in %s: %w", addr, netnsPath, err)
	}
	return conn, nil
}

// Splice copies between a port-forward stream and a connection until both
// directions end or ctx is done, then closes both. It returns the first
// copy error other than a closed connection.
func Splice(ctx context.Context, conn net.Conn, stream io.ReadWriteCloser) error {
	var once sync.Once
	closeAll := func() {
		once.Do(func() {
			_ = conn.Close()
			_ = stream.Close()
		})
	}
	stop := context.AfterFunc(ctx, closeAll)
	defer stop()
	defer closeAll()
	errCh := make(chan error, 2)
	go func() {
		_, err := io.Copy(conn, stream)
		if tc, ok := conn.(interface{ CloseWrite() error }); ok {
			_ = tc.CloseWrite()
		}
		errCh <- err
	}()
	go func() {
		_, err := io.Copy(stream, conn)
		closeAll() // the pod closed: end the stream too
		errCh <- err
	}()
	var first error
	for range 2 {
		if err := <-errCh; err != nil && first == nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, io.ErrClosedPipe) {
			first = err
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return first
}
