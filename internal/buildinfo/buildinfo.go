// Package buildinfo says which rudder this is and which Kubernetes API
// version its apiserver reports.
package buildinfo

import (
	"runtime"
	"runtime/debug"

	"k8s.io/apimachinery/pkg/version"
)

// Kubernetes API level the server reports on /version. kubectl 1.27–1.33
// is on this machine's dispatcher; 1.33 is the newest it maps, and rudder's
// API (k8s.io/api v0.37) is a superset of what 1.33 expects.
const (
	kubeMajor = "1"
	kubeMinor = "33"
)

// Version returns the /version answer.
func Version() version.Info {
	commit, date := "unknown", "1970-01-01T00:00:00Z"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.time":
				date = s.Value
			}
		}
	}
	return version.Info{
		Major: kubeMajor, Minor: kubeMinor, GitVersion: "v" + kubeMajor + "." + kubeMinor + ".0+rudder",
		GitCommit: commit, GitTreeState: "clean", BuildDate: date,
		GoVersion: runtime.Version(), Compiler: runtime.Compiler, Platform: runtime.GOOS + "/" + runtime.GOARCH,
	}
}
