package iptables

import (
	"context"
	"fmt"
	"testing"
	"time"

	"rudder/proxy/model"
)

// BenchmarkSync10k measures, per mode in a fresh namespace, the first full
// sync of 10,000 services of 2 endpoints and then one service's endpoint
// change (a partial sync), then a full resync over the populated tables
// (as after a failure). Run with -benchtime=1x.
func BenchmarkSync10k(b *testing.B) {
	for _, m := range []Mode{ModeLegacy, ModeNFT} {
		b.Run(string(m), func(b *testing.B) { benchSync(b, m, 10000) })
	}
}

func benchSync(b *testing.B, m Mode, n int) {
	const changes = 5
	ctx := context.Background()
	var full, one, refull time.Duration
	for range b.N {
		ex := kernelNS(b, m)
		be, _ := New(Config{Mode: m, Executor: ex})
		st := manyServices(n)
		start := time.Now()
		if err := be.Sync(ctx, st, nil, true); err != nil {
			b.Fatal(err)
		}
		full += time.Since(start)
		for i := range changes {
			sp := &st.Services[(i*997)%n]
			eps := []string{sp.ClusterEndpoints[0].Addr.String(), fmt.Sprintf("10.250.%d.%d:8080", i/250, i%250+1)}
			*sp = clusterPort(sp.Name.Name, sp.ClusterIPs[0].String(), sp.Port, eps...)
			sp.NodePort = uint16(30000 + (i*997)%2768)
			start = time.Now()
			if err := be.Sync(ctx, st, []model.ServicePortName{sp.Name}, false); err != nil {
				b.Fatal(err)
			}
			one += time.Since(start)
		}
		start = time.Now()
		if err := be.Sync(ctx, st, nil, true); err != nil {
			b.Fatal(err)
		}
		refull += time.Since(start)
	}
	b.ReportMetric(float64(full.Milliseconds())/float64(b.N), "full-sync-ms")
	b.ReportMetric(float64(one.Milliseconds())/float64(b.N*changes), "one-change-ms")
	b.ReportMetric(float64(refull.Milliseconds())/float64(b.N), "refull-ms")
}

// BenchmarkGenerate10k is the pure part of a full sync: rules for 10,000
// services rendered into one restore input, into a fake.
func BenchmarkGenerate10k(b *testing.B) {
	st := manyServices(10000)
	for range b.N {
		f := NewFake()
		be, _ := New(Config{Mode: ModeLegacy, Executor: f})
		if err := be.Sync(context.Background(), st, nil, true); err != nil {
			b.Fatal(err)
		}
	}
}
