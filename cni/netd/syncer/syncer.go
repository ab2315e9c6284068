// Package syncer brings a node's kernel state to a desired netstate.State:
// it reads what the kernel holds within netd's scope, computes the
// difference, and applies it through an Adapter.
package syncer

import (
	"fmt"

	"rudder/cni/netd/netstate"
)

// Adapter is the kernel as the syncer sees it: read a scope, apply a plan.
type Adapter interface {
	Current(netstate.Scope) (netstate.State, error)
	Apply(netstate.Plan) error
}

// Config says which kernel objects the syncer owns.
type Config struct {
	Device string // the VXLAN device netd manages; removed when not desired
}

// Syncer reconciles one node's kernel state.
type Syncer struct {
	cfg     Config
	adapter Adapter
}

// New returns a Syncer over adapter.
func New(cfg Config, adapter Adapter) *Syncer {
	return &Syncer{cfg: cfg, adapter: adapter}
}

// Sync makes the kernel hold desired and returns the plan it applied. A
// plan that fails part-way has still applied every change it could; the
// next Sync starts again from what the kernel reports.
func (s *Syncer) Sync(desired netstate.State) (netstate.Plan, error) {
	scope := netstate.Scope{Devices: []string{s.cfg.Device}}
	for _, x := range desired.Sysctls {
		scope.Sysctls = append(scope.Sysctls, x.Key)
	}
	current, err := s.adapter.Current(scope)
	if err != nil {
		return netstate.Plan{}, fmt.Errorf("read kernel state: %w", err)
	}
	plan := Diff(desired, current)
	if plan.Empty() {
		return plan, nil
	}
	if err := s.adapter.Apply(plan); err != nil {
		return plan, fmt.Errorf("apply %s: %w", plan.Summary(), err)
	}
	return plan, nil
}
