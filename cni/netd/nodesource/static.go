package nodesource

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"slices"

	"rudder/cni/netd/desired"
	"rudder/cni/netd/netstate"
)

// Static serves a fixed node list; Publish does nothing.
type Static struct {
	nodes []netstate.Node
}

// NewStatic returns a source of nodes.
func NewStatic(nodes ...netstate.Node) *Static { return &Static{nodes: slices.Clone(nodes)} }

// Start does nothing.
func (s *Static) Start(context.Context) error { return nil }

// Changes never fires.
func (s *Static) Changes() <-chan struct{} { return nil }

// Nodes returns the fixed list.
func (s *Static) Nodes() ([]netstate.Node, error) { return slices.Clone(s.nodes), nil }

// Publish does nothing: there is no one to tell.
func (s *Static) Publish(context.Context, string, Published) error { return nil }

// File serves fixed nodes plus the nodes listed in a JSON file, read
// again on every Nodes call so that edits take effect at the next resync.
// The file holds [{"name", "podCIDR", "publicIP", "vtepMAC"}, …]; a missing
// vtepMAC is the one every netd derives from publicIP.
type File struct {
	Static
	path string
}

// NewFile returns a source reading path; fixed nodes (this node, from
// flags) win over file entries of the same name.
func NewFile(path string, fixed ...netstate.Node) *File {
	return &File{Static: Static{nodes: slices.Clone(fixed)}, path: path}
}

type fileNode struct {
	Name     string `json:"name"`
	PodCIDR  string `json:"podCIDR"`
	PublicIP string `json:"publicIP"`
	VTEPMAC  string `json:"vtepMAC"`
}

// Nodes returns the fixed nodes and the file's.
func (f *File) Nodes() ([]netstate.Node, error) {
	data, err := os.ReadFile(f.path)
	if err != nil {
		return nil, fmt.Errorf("nodes file: %w", err)
	}
	var entries []fileNode
	if err := json.Unmarshal(data, &entries); err != nil {
		return nil, fmt.Errorf("nodes file %s: %w", f.path, err)
	}
	out := slices.Clone(f.nodes)
	for _, e := range entries {
		n, err := e.node()
		if err != nil {
			return nil, fmt.Errorf("nodes file %s: %w", f.path, err)
		}
		if !slices.ContainsFunc(out, func(o netstate.Node) bool { return o.Name == n.Name }) {
			out = append(out, n)
		}
	}
	return out, nil
}

func (e fileNode) node() (netstate.Node, error) {
	n := netstate.Node{Name: e.Name}
	if e.Name == "" {
		return n, fmt.Errorf("entry without a name")
	}
	var err error
	if n.PodCIDR, err = netip.ParsePrefix(e.PodCIDR); err != nil {
		return n, fmt.Errorf("node %s: podCIDR: %w", e.Name, err)
	}
	n.PodCIDR = n.PodCIDR.Masked()
	if n.PublicIP, err = netip.ParseAddr(e.PublicIP); err != nil {
		return n, fmt.Errorf("node %s: publicIP: %w", e.Name, err)
	}
	n.VTEPMAC = desired.VTEPMAC(n.PublicIP)
	if e.VTEPMAC != "" {
		if n.VTEPMAC, err = netstate.ParseMAC(e.VTEPMAC); err != nil {
			return n, fmt.Errorf("node %s: %w", e.Name, err)
		}
	}
	return n, nil
}
