package netd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"rudder/cni/netd/cniconf"
	"rudder/cni/netd/desired"
	"rudder/cni/netd/netstate"
	"rudder/cni/netd/nodesource"
	"rudder/cni/netd/syncer"
)

// pass is one full sync, run by the loop; it keeps what it needs to log
// only changes (a new error, a new set of refused peers), not every retry.
type pass struct {
	d        *Daemon
	kernel   Kernel
	syncer   *syncer.Syncer
	forward  Forwarder
	underlay netstate.Underlay // found again at every pass: its address or MTU may change

	lastErr     string
	lastRefused string
	lastWaiting string
}

// run computes the desired state, applies it, publishes this node's
// endpoint, keeps forwarding open and writes the CNI files. Waiting for a
// pod range is not a failure; anything else that fails is, and is retried.
func (p *pass) run(ctx context.Context) error {
	start := time.Now()
	res, err := p.compute()
	if errors.Is(err, desired.ErrNoPodCIDR) {
		p.waiting(err)
		return nil
	}
	if err == nil {
		err = p.apply(ctx, res)
	}
	p.d.metrics.observe(time.Since(start), res, err)
	p.report(res, err)
	p.d.recordSync(time.Now(), err)
	return err
}

func (p *pass) compute() (desired.Result, error) {
	u, err := p.kernel.Underlay(p.d.cfg.Underlay)
	if err != nil {
		return desired.Result{}, fmt.Errorf("find underlay: %w", err)
	}
	p.underlay = u
	nodes, err := p.d.deps.Nodes.Nodes()
	if err != nil {
		return desired.Result{}, fmt.Errorf("list nodes: %w", err)
	}
	cfg := p.d.cfg
	return desired.Compute(desired.Input{
		Self: cfg.NodeName, Nodes: nodes, Backend: cfg.Backend, Underlay: p.underlay,
		ClusterCIDR: cfg.ClusterCIDR, Device: cfg.Device, VNI: cfg.VNI, Port: cfg.Port,
	})
}

// apply does every step even when one fails, so that a bad peer route does
// not keep the files from being written, and returns the failures joined.
func (p *pass) apply(ctx context.Context, res desired.Result) error {
	var errs []error
	plan, err := p.syncer.Sync(res.State)
	errs = append(errs, err)
	if !plan.Empty() {
		p.d.log.Info("kernel state changed", "changes", plan.Summary(), "peers", len(res.Peers))
	}
	pub := nodesource.Published{PublicIP: p.underlay.Addr.Addr(), VTEPMAC: res.VTEPMAC}
	errs = append(errs, p.d.deps.Nodes.Publish(ctx, p.d.cfg.NodeName, pub))
	errs = append(errs, p.forward.Ensure())
	errs = append(errs, p.writeFiles(res))
	return errors.Join(errs...)
}

// writeFiles writes the subnet file before the conflist: once the runtime
// sees the conflist, the plugin must find its pod range.
func (p *pass) writeFiles(res desired.Result) error {
	cfg := p.d.cfg
	sub := cniconf.Subnet{Network: cfg.ClusterCIDR, PodCIDR: res.PodCIDR, MTU: res.MTU, IPMasq: cfg.IPMasq}
	if changed, err := cniconf.WriteSubnet(cfg.SubnetFile, sub); err != nil {
		return err
	} else if changed {
		p.d.log.Info("subnet file written", "path", cfg.SubnetFile, "subnet", sub.Gateway(), "mtu", res.MTU)
	}
	cl := cniconf.Conflist{Bridge: cfg.Bridge, SubnetFile: cfg.SubnetFile, DataDir: cfg.IPAMDataDir, IPMasq: cfg.IPMasq}
	if changed, err := cniconf.WriteConflist(cfg.CNIConfDir, cfg.ConflistName, cl); err != nil {
		return err
	} else if changed {
		p.d.log.Info("CNI conflist written", "dir", cfg.CNIConfDir, "name", cfg.ConflistName)
	}
	return nil
}

func (p *pass) waiting(err error) {
	p.d.setWaiting(err)
	if msg := err.Error(); msg != p.lastWaiting {
		p.lastWaiting = msg
		p.d.log.Info("waiting for this node's pod range", "reason", msg)
	}
}

// report logs a failure when it differs from the last one, and the refused
// peers when their set changes; pending peers only at debug level.
func (p *pass) report(res desired.Result, err error) {
	p.lastWaiting = ""
	switch {
	case err != nil && err.Error() != p.lastErr:
		p.d.log.Error("sync failed", "err", err)
	case err != nil:
		p.d.log.Debug("sync failed again", "err", err)
	case p.lastErr != "":
		p.d.log.Info("sync recovered")
	}
	p.lastErr = ""
	if err != nil {
		p.lastErr = err.Error()
	}
	if refused := joinIssues(res.Refused); refused != p.lastRefused {
		p.lastRefused = refused
		if refused != "" {
			p.d.log.Warn("peers refused", "peers", refused)
		}
	}
	if len(res.Pending) > 0 {
		p.d.log.Debug("peers pending", "peers", joinIssues(res.Pending))
	}
}

func joinIssues(issues []desired.PeerIssue) string {
	s := make([]string, len(issues))
	for i, x := range issues {
		s[i] = x.String()
	}
	return strings.Join(s, "; ")
}
