package proxier

import (
	"errors"
	"log/slog"
	"net/netip"
	"rudder/proxy/conntrack"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/utils/clock"

	"rudder/proxy/healthcheck"
	"rudder/proxy/serviceview"
)

// Source is what the proxier reads of the shared service view
// (*serviceview.View implements it).
type Source interface {
	HasSynced() bool
	Changes() <-chan struct{}
	Snapshot() serviceview.Snapshot
}

// Config configures a Proxier.
type Config struct {
	NodeName string
	// NodePortAddresses are the node addresses NodePorts answer on
	// (already filtered by --nodeport-addresses; see FilterAddresses).
	NodePortAddresses []netip.Addr
	// ClusterCIDRs is the pod network; service traffic from outside it
	// is masqueraded.
	ClusterCIDRs []netip.Prefix
	// MinSyncPeriod rate-limits syncs; SyncPeriod forces one at least
	// that often. RetryBackoff (default 1s) is the first retry delay.
	MinSyncPeriod, SyncPeriod, RetryBackoff time.Duration

	Source  Source
	Backend Backend
	// Healthz, if set, is told about every successful sync.
	Healthz *healthcheck.Healthz
	// HealthServers, if set, serves eTP=Local services' health checks.
	HealthServers *healthcheck.Servers
	// Conntrack, if set, deletes stale UDP conntrack entries after each
	// successful sync (endpoints gone, services that got endpoints).
	Conntrack conntrack.Deleter
	// Registerer receives the metrics (nil: a private registry).
	Registerer prometheus.Registerer
	Clock      clock.Clock // nil: the real clock
	Logger     *slog.Logger
}

func (c *Config) check() error {
	switch {
	case c.NodeName == "":
		return errors.New("proxier: Config.NodeName is empty")
	case c.Source == nil:
		return errors.New("proxier: Config.Source is nil")
	case c.Backend == nil:
		return errors.New("proxier: Config.Backend is nil")
	}
	if c.RetryBackoff <= 0 {
		c.RetryBackoff = time.Second
	}
	if c.Registerer == nil {
		c.Registerer = prometheus.NewRegistry()
	}
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}
