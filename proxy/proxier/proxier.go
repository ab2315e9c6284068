package proxier

import (
	"context"
	"fmt"

	"rudder/proxy/model"
	"rudder/proxy/runner"
)

// Proxier runs one backend from the shared service view.
type Proxier struct {
	cfg     Config
	metrics *metrics
	runner  *runner.Runner

	// Owned by the sync function, which the runner calls from one
	// goroutine at a time.
	applied  *model.State // last successfully applied state
	triggers triggerTimes
}

// New checks cfg, registers the metrics and builds a Proxier.
func New(cfg Config) (*Proxier, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	p := &Proxier{cfg: cfg, metrics: m}
	p.runner, err = runner.New(runner.Config{
		MinInterval:  cfg.MinSyncPeriod,
		MaxInterval:  cfg.SyncPeriod,
		RetryBackoff: cfg.RetryBackoff,
		Sync:         p.sync,
		Clock:        cfg.Clock,
		Logger:       cfg.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("proxier: %w", err)
	}
	return p, nil
}

// Node is the node facts the model is built with.
func (p *Proxier) Node() model.Node {
	return model.Node{
		Name:              p.cfg.NodeName,
		NodePortAddresses: p.cfg.NodePortAddresses,
		ClusterCIDRs:      p.cfg.ClusterCIDRs,
	}
}

// Run waits for the source to sync (a sync from a half-filled cache
// would delete live rules), then syncs on every change, rate-limited,
// until ctx ends. It does not run the source.
func (p *Proxier) Run(ctx context.Context) error {
	log := p.cfg.Logger.With("backend", p.cfg.Backend.Name())
	for !p.cfg.Source.HasSynced() {
		select {
		case <-ctx.Done():
			return nil
		case <-p.cfg.Source.Changes():
		}
	}
	log.Info("service view synced, starting syncs")
	done := make(chan struct{})
	go func() { p.runner.Run(ctx); close(done) }()
	for {
		select {
		case <-ctx.Done():
			<-done
			return nil
		case <-p.cfg.Source.Changes():
			p.runner.Trigger()
		}
	}
}
