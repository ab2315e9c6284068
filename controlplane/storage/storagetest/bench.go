package storagetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"rudder/controlplane/storage"
)

// BenchmarkCreates makes b.N creates of 512-byte values from clients
// concurrent goroutines and reports "creates/s".
func BenchmarkCreates(b *testing.B, s storage.Store, clients int) {
	ctx := context.Background()
	prefix := fmt.Sprintf("/bench/%d/", time.Now().UnixNano())
	value := make([]byte, 512)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				if _, err := s.Create(ctx, fmt.Sprintf("%s%d", prefix, i), value); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "creates/s")
}
