package netd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"rudder/cni/netd/netstate"
	"rudder/cni/netd/nodesource"
	"rudder/cni/netd/syncer"
)

// NodeSource is where nodes come from (nodesource.Kube, Static or File).
type NodeSource interface {
	Start(ctx context.Context) error // returns once the first node list is in
	Nodes() ([]netstate.Node, error)
	Changes() <-chan struct{} // receives after nodes changed; may be nil
	Publish(ctx context.Context, node string, p nodesource.Published) error
}

// Kernel is the node's network namespace as netd changes it.
type Kernel interface {
	Underlay(spec string) (netstate.Underlay, error)
	syncer.Adapter
}

// Forwarder keeps pod traffic accepted in the FORWARD path.
type Forwarder interface {
	Ensure() error
}

// Deps are netd's collaborators. Only Nodes is required.
type Deps struct {
	Nodes      NodeSource
	Kernel     Kernel                // nil: netlink in Config.NetNS
	Forwarder  Forwarder             // nil: iptables in Config.NetNS
	Registerer prometheus.Registerer // nil: metrics are kept but not registered
	Logger     *slog.Logger          // nil: slog.Default()
}

// Daemon is one netd instance.
type Daemon struct {
	cfg     Config
	deps    Deps
	log     *slog.Logger
	metrics *metrics
	started atomic.Bool
	ready   chan struct{}

	mu     sync.Mutex
	status status
}

// New checks cfg and registers the metrics; Run does the work.
func New(cfg Config, deps Deps) (*Daemon, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("netd config: %w", err)
	}
	if deps.Nodes == nil {
		return nil, errors.New("netd: no node source")
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	m, err := newMetrics(deps.Registerer)
	if err != nil {
		return nil, fmt.Errorf("netd metrics: %w", err)
	}
	return &Daemon{
		cfg: cfg, deps: deps, metrics: m, ready: make(chan struct{}),
		log: deps.Logger.With("component", "netd", "node", cfg.NodeName),
	}, nil
}

// Run sets the node up and keeps it in sync until ctx ends; it then
// returns nil. It returns an error only when setup fails: the namespace,
// the underlay interface or the node source cannot be opened.
func (d *Daemon) Run(ctx context.Context) error {
	if !d.started.CompareAndSwap(false, true) {
		return errors.New("netd: Run called twice")
	}
	k, fw, closeKernel, err := d.openKernel()
	if err != nil {
		return err
	}
	defer closeKernel()
	u, err := k.Underlay(d.cfg.Underlay)
	if err != nil {
		return fmt.Errorf("netd: find underlay: %w", err)
	}
	if err := d.deps.Nodes.Start(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // stopped while starting
		}
		return fmt.Errorf("netd: start node source: %w", err)
	}
	d.log.Info("netd running", "backend", d.cfg.Backend, "underlay", u.Name, "address", u.Addr,
		"netns", d.cfg.NetNS, "resync", d.cfg.ResyncPeriod)
	p := &pass{d: d, kernel: k, syncer: syncer.New(syncer.Config{Device: d.cfg.Device}, k), forward: fw}
	l := loop{period: d.cfg.ResyncPeriod, minGap: minSyncGap, retry: min(retryAfter, d.cfg.ResyncPeriod)}
	l.run(ctx, d.deps.Nodes.Changes(), func() error { return p.run(ctx) })
	d.log.Info("netd stopped")
	return nil
}
