// Package worker runs a controller's workqueue: wait for the caches, then
// N goroutines that take a key, sync it, and requeue it rate-limited on
// error, until the context ends.
package worker

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// Config is one controller's loop.
type Config struct {
	Name    string // "replicaset", used in errors and logs
	Queue   workqueue.TypedRateLimitingInterface[string]
	Synced  []cache.InformerSynced
	Workers int
	Sync    func(ctx context.Context, key string) error
	Logger  *slog.Logger
}

// Run waits for the caches to sync and processes keys until ctx ends; it
// shuts the queue down on the way out.
func Run(ctx context.Context, cfg Config) error {
	defer cfg.Queue.ShutDown()
	if !cache.WaitForCacheSync(ctx.Done(), cfg.Synced...) {
		return fmt.Errorf("%s controller: caches did not sync: %w", cfg.Name, ctx.Err())
	}
	cfg.Logger.Info("started", "workers", cfg.Workers)
	var wg sync.WaitGroup
	for range max(cfg.Workers, 1) {
		wg.Go(func() {
			for processNext(ctx, cfg) {
			}
		})
	}
	<-ctx.Done()
	cfg.Queue.ShutDown()
	wg.Wait()
	return nil
}

func processNext(ctx context.Context, cfg Config) bool {
	key, quit := cfg.Queue.Get()
	if quit {
		return false
	}
	defer cfg.Queue.Done(key)
	if err := cfg.Sync(ctx, key); err != nil {
		cfg.Logger.Error("sync failed", cfg.Name, key, "err", err)
		cfg.Queue.AddRateLimited(key)
		return true
	}
	cfg.Queue.Forget(key)
	return true
}
