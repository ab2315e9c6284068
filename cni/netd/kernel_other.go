//go:build !linux

package netd

import "errors"

func (d *Daemon) openKernel() (Kernel, Forwarder, func(), error) {
	if d.deps.Kernel != nil && d.deps.Forwarder != nil {
		return d.deps.Kernel, d.deps.Forwarder, func() {}, nil
	}
	return nil, nil, nil, errors.New("netd: the kernel adapter needs Linux")
}
