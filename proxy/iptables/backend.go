// Package iptables is the proxy backend that programs services with
// iptables rules, in the spirit of kube-proxy. IPv4 only.
//
// nat: PREROUTING and OUTPUT jump to RUDDER-SERVICES, which sends each
// cluster IP to RUDDER-SVC-<hash>, external and load-balancer IPs (and,
// through RUDDER-NODEPORTS, node ports on the node's addresses) to the
// SVC chain after RUDDER-MARK-MASQ (externalTrafficPolicy Cluster) or to
// RUDDER-EXT-<hash> (Local: pods and the node short-circuit to SVC, others
// go to RUDDER-SVL-<hash>, the local endpoints). SVC and SVL pick a
// RUDDER-SEP-<hash> with `recent` (affinity) and `statistic`; SEP marks
// hairpin traffic and DNATs. RUDDER-POSTROUTING masquerades marked
// packets (0x4000). filter: RUDDER-SERVICES and RUDDER-EXTERNAL-SERVICES
// REJECT frontends without endpoints and DROP external traffic of
// eTP=Local services without local endpoints; RUDDER-FORWARD drops
// conntrack INVALID.
//
// Each sync is one `iptables-restore --noflush`; after a full sync only
// the chains of changed service ports (and the shared chains, when their
// rules change) are rewritten. It works with iptables-legacy and
// iptables-nft.
package iptables

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"rudder/proxy/model"
)

// Config configures a Backend.
type Config struct {
	Mode     Mode     // legacy, nft or auto ("" is auto)
	Executor Executor // nil: Exec{}
	Logger   *slog.Logger
}

// Backend programs the desired state into iptables.
type Backend struct {
	ex  Executor
	log *slog.Logger

	mu   sync.Mutex
	mode Mode // resolved; "" until the first use in auto mode
	last *written
}

// written is what the last successful sync left in the kernel.
type written struct {
	node   model.Node
	ports  map[model.ServicePortName]*portRules
	shared map[string][]chain
}

// New returns a backend; nothing is touched until the first Sync.
func New(cfg Config) (*Backend, error) {
	b := &Backend{ex: cfg.Executor, log: cfg.Logger}
	if b.ex == nil {
		b.ex = Exec{}
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	switch cfg.Mode {
	case ModeLegacy, ModeNFT:
		b.mode = cfg.Mode
	case ModeAuto, "":
	default:
		return nil, fmt.Errorf("iptables mode %q: want legacy, nft or auto", cfg.Mode)
	}
	return b, nil
}

// Name implements the proxier's Backend.
func (b *Backend) Name() string { return "iptables" }

// Mode returns the flavour in use, detecting it when configured as auto.
func (b *Backend) Mode(ctx context.Context) (Mode, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.resolveMode(ctx)
}

func (b *Backend) resolveMode(ctx context.Context) (Mode, error) {
	if b.mode != "" {
		return b.mode, nil
	}
	m, err := detectMode(ctx, b.ex)
	if err != nil {
		return "", err
	}
	b.log.Info("iptables mode detected", "mode", m)
	b.mode = m
	return m, nil
}

// save reads the given tables back from the kernel.
func (b *Backend) save(ctx context.Context, m Mode, tables ...string) (*Dump, error) {
	d := NewDump()
	for _, t := range tables {
		out, err := b.ex.Run(ctx, nil, saveCmd(m), "-t", t)
		if err != nil {
			return nil, fmt.Errorf("save table %s: %w", t, err)
		}
		if err := d.Restore(out, true); err != nil {
			return nil, fmt.Errorf("parse saved table %s: %w", t, err)
		}
	}
	return d, nil
}

// restore applies one restore input.
func (b *Backend) restore(ctx context.Context, m Mode, input []byte) error {
	if len(input) == 0 {
		return nil
	}
	if _, err := b.ex.Run(ctx, input, restoreCmd(m), "-w", "--noflush"); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	return nil
}
