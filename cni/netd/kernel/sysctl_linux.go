package kernel

import (
	"fmt"
	"os"
	"strings"

	"github.com/containernetworking/plugins/pkg/ns"

	"rudder/cni/netd/netstate"
)

// Sysctl reads a per-namespace sysctl (net.*) of the adapter's namespace.
func (k *Netlink) Sysctl(key string) (string, error) {
	var v []byte
	err := k.ns.Do(func(ns.NetNS) error {
		var err error
		v, err = os.ReadFile(netstate.SysctlPath(key))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("read sysctl %s: %w", key, err)
	}
	return strings.TrimSpace(string(v)), nil
}

// SetSysctl writes a per-namespace sysctl (net.*) of the adapter's namespace.
func (k *Netlink) SetSysctl(key, value string) error {
	err := k.ns.Do(func(ns.NetNS) error {
		return os.WriteFile(netstate.SysctlPath(key), []byte(value), 0o644)
	})
	if err != nil {
		return fmt.Errorf("write sysctl %s=%s: %w", key, value, err)
	}
	return nil
}
