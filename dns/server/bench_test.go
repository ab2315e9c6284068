package server

import (
	"io"
	"log/slog"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// BenchmarkUDP is queries through real loopback sockets with a trivial
// handler; it reports queries per second.
func BenchmarkUDP(b *testing.B) {
	r := start(b, func(c *Config) { c.Handler = echoHandler })
	q := query("a.example.", dns.TypeA)
	q.SetEdns0(1232, false)
	wire := pack(b, q)
	addr := r.addr("udp")
	b.ReportAllocs()
	b.SetParallelism(4)
	b.ResetTimer()
	begin, cpu0 := time.Now(), cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		c, err := net.Dial("udp", addr)
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		buf := make([]byte, 1500)
		for pb.Next() {
			if _, err := c.Write(wire); err != nil {
				b.Error(err)
				return
			}
			_ = c.SetReadDeadline(time.Now().Add(time.Second))
			if _, err := c.Read(buf); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(begin).Seconds(), "qps")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the process's user+system CPU time in ns (server and client
// together): steadier than wall time on a busy machine.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkServeRaw is the request path without sockets: decode, chain,
// scrub, pack.
func BenchmarkServeRaw(b *testing.B) {
	s, err := New(Config{Addrs: []string{"127.0.0.1:0"}, Handler: echoHandler, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	q := query("a.example.", dns.TypeA)
	q.SetEdns0(1232, false)
	wire := pack(b, q)
	w := newWriter(s, capture)
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		s.serveRaw(wire, w)
	}
}
