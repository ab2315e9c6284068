// Command rudder-cni is the rudder CNI plugin (type "rudder"): a thin skel
// main over package cni/plugin, without client-go so that it is small and
// starts fast. Install it as /opt/cni/bin/rudder.
package main

import (
	"runtime/debug"

	"github.com/containernetworking/cni/pkg/skel"

	"rudder/cni/plugin"
)

func main() {
	p := plugin.New(plugin.Config{Dataplane: plugin.NewNetlink(plugin.NetlinkConfig{})})
	skel.PluginMainFuncs(p.Funcs(), plugin.VersionInfo(), about())
}

// about is printed when the binary runs without CNI_COMMAND.
func about() string {
	rev := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				rev = s.Value
			}
		}
	}
	return "CNI plugin rudder (commit " + rev + ")"
}
