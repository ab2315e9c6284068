package dnstest

import (
	"net"
	"testing"

	"github.com/miekg/dns"
)

// Serve starts srv, whose PacketConn or Listener is set, waits until it
// serves, and shuts it down when the test ends.
func Serve(t testing.TB, srv *dns.Server) {
	t.Helper()
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
}

// ServeUDP serves h over UDP on loopback until the test ends and returns
// the address.
func ServeUDP(t testing.TB, h dns.Handler) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	Serve(t, &dns.Server{PacketConn: pc, Handler: h})
	return pc.LocalAddr().String()
}
