// Package plugin is the rudder CNI plugin (type "rudder"): ADD, DEL, CHECK,
// GC and STATUS of the CNI spec 1.1.0 for a node bridge with veth pairs and
// host-local IPAM. The pod range comes from the subnet file netd writes
// (see ../contract.md) or from explicit ranges in the config.
//
// The verbs are plain functions of their arguments over a small Dataplane
// (netlink in *_linux.go, a fake that dumps its state in fake.go) and an
// IPAM store, so they are tested without root; cmd/rudder-cni is a thin
// skel main over Plugin.Funcs.
package plugin

import (
	"io"
	"os"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/version"

	"rudder/ipam/hostlocal"
)

// supportedVersions are the CNI spec versions the plugin speaks.
func supportedVersions() []string { return []string{"0.3.1", "0.4.0", "1.0.0", "1.1.0"} }

// VersionInfo returns the versions for skel and VERSION.
func VersionInfo() version.PluginInfo {
	return version.PluginSupports(supportedVersions()...)
}

// Config wires a Plugin to its edges.
type Config struct {
	// Dataplane does the kernel work; required.
	Dataplane Dataplane
	// OpenStore opens the IPAM store of a network; nil opens a
	// hostlocal.DiskStore under dataDir.
	OpenStore func(dataDir, network string) (hostlocal.Store, error)
	// ReadFile reads the subnet file; nil uses os.ReadFile.
	ReadFile func(path string) ([]byte, error)
	// Stdout receives the ADD result; nil uses os.Stdout.
	Stdout io.Writer
}

// Plugin runs the CNI verbs.
type Plugin struct {
	dp        Dataplane
	openStore func(dataDir, network string) (hostlocal.Store, error)
	readFile  func(string) ([]byte, error)
	stdout    io.Writer
}

// New returns a Plugin over cfg, filling in the defaults.
func New(cfg Config) *Plugin {
	p := &Plugin{dp: cfg.Dataplane, openStore: cfg.OpenStore, readFile: cfg.ReadFile, stdout: cfg.Stdout}
	if p.openStore == nil {
		p.openStore = openDiskStore
	}
	if p.readFile == nil {
		p.readFile = os.ReadFile
	}
	if p.stdout == nil {
		p.stdout = os.Stdout
	}
	return p
}

func openDiskStore(dataDir, network string) (hostlocal.Store, error) {
	return hostlocal.NewDiskStore(hostlocal.DiskStoreConfig{DataDir: dataDir, Network: network})
}

// Funcs returns the verbs for skel.PluginMainFuncs.
func (p *Plugin) Funcs() skel.CNIFuncs {
	return skel.CNIFuncs{Add: p.Add, Del: p.Del, Check: p.Check, GC: p.GC, Status: p.Status}
}
