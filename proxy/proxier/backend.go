// Package proxier ties the service proxy together: the shared service
// view feeds a bounded-frequency runner, each sync builds the pure model
// and hands it, with the names of the service ports that changed, to a
// Backend that programs the kernel; metrics and health follow each sync.
package proxier

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"rudder/proxy/model"
)

// Backend programs one kind of dataplane (iptables, nftables, IPVS, eBPF).
type Backend interface {
	// Name is the mode's name ("iptables", "nftables", ...).
	Name() string
	// Sync makes the dataplane match state. With full, it rewrites
	// everything it owns; otherwise it may touch only the service ports
	// named in changed (added, changed or removed since the last
	// successful Sync; see model.Diff). After a failed Sync the next one
	// is full.
	Sync(ctx context.Context, state *model.State, changed []model.ServicePortName, full bool) error
	// Cleanup removes everything the backend ever installed.
	Cleanup(ctx context.Context) error
}

// RuleCounter is optionally implemented by a Backend that can say how
// many rules (or map entries, ...) of each kind its last successful Sync
// left installed; the proxier exports them as rudder_proxy_rules{kind}.
type RuleCounter interface {
	RuleCounts() map[string]int
}

// BackendConfig is what the command gives a backend constructor.
type BackendConfig struct {
	Node       model.Node
	Registerer prometheus.Registerer
	Logger     *slog.Logger
}

// NewBackendFunc constructs a backend; the command holds one per mode.
type NewBackendFunc func(BackendConfig) (Backend, error)
