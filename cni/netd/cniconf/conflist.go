package cniconf

import (
	"encoding/json"
	"fmt"
	"path/filepath"
)

// DefaultConflistName is the conflist's file name in the CNI conf dir.
const DefaultConflistName = "10-rudder.conflist"

// Conflist holds what varies in the conflist netd writes.
type Conflist struct {
	Bridge     string // cni0
	SubnetFile string // the plugin reads the pod range from here
	DataDir    string // IPAM store root, /var/lib/cni/networks
	IPMasq     bool
}

type conflistJSON struct {
	CNIVersion string       `json:"cniVersion"`
	Name       string       `json:"name"`
	Plugins    []pluginJSON `json:"plugins"`
}

type pluginJSON struct {
	Type        string `json:"type"`
	Bridge      string `json:"bridge"`
	SubnetFile  string `json:"subnetFile"`
	DataDir     string `json:"dataDir"`
	HairpinMode bool   `json:"hairpinMode"`
	IPMasq      bool   `json:"ipMasq"`
}

// Marshal renders the conflist of network "rudder", CNI 1.1.0, one plugin
// of type "rudder" with hairpin mode on.
func (c Conflist) Marshal() []byte {
	doc := conflistJSON{CNIVersion: "1.1.0", Name: "rudder", Plugins: []pluginJSON{{
		Type: "rudder", Bridge: c.Bridge, SubnetFile: c.SubnetFile, DataDir: c.DataDir,
		HairpinMode: true, IPMasq: c.IPMasq,
	}}}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("marshal conflist: %v", err)) // plain strings and bools cannot fail
	}
	return append(b, '\n')
}

// WriteConflist writes dir/name atomically; it reports whether the content changed.
func WriteConflist(dir, name string, c Conflist) (bool, error) {
	return writeAtomic(filepath.Join(dir, name), c.Marshal())
}
