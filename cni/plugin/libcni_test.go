package plugin

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/version"
	"github.com/containernetworking/plugins/pkg/ns"
)

// buildPlugin builds cmd/rudder-cni as dir/rudder (the name libcni looks
// up for type "rudder").
func buildPlugin(dir string) error {
	out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "rudder"), "rudder/cmd/rudder-cni").CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build rudder-cni: %v\n%s", err, out)
	}
	return nil
}

// nodeExec runs plugins inside a node's namespace: the fork happens on a
// thread that ns.Do has moved there, so the plugin process starts in it,
// as it would on a node whose runtime runs in that namespace.
type nodeExec struct {
	node ns.NetNS
	raw  invoke.RawExec
	version.PluginDecoder
}

func (e *nodeExec) ExecPlugin(ctx context.Context, path string, stdin []byte, env []string) ([]byte, error) {
	var out []byte
	var err error
	if derr := e.node.Do(func(ns.NetNS) error {
		out, err = e.raw.ExecPlugin(ctx, path, stdin, env)
		return nil
	}); derr != nil {
		return nil, derr
	}
	return out, err
}

func (e *nodeExec) FindInPath(plugin string, paths []string) (string, error) {
	return invoke.FindInPath(plugin, paths)
}

// node is one node namespace with the plugin config netd would write.
type node struct {
	t          testing.TB
	prefix     string
	ns         ns.NetNS
	cni        *libcni.CNIConfig
	list       *libcni.NetworkConfigList
	dataDir    string
	subnetFile string
}

// newNode creates a node namespace, a subnet file and a conflist of
// cniVersion v (the contract's example, paths moved into the test's dir).
func newNode(t testing.TB, binDir, v string) *node {
	prefix := runPrefix(t)
	dir := t.TempDir()
	n := &node{t: t, prefix: prefix, ns: newNetns(t, prefix+"-node"),
		dataDir: filepath.Join(dir, "networks"), subnetFile: filepath.Join(dir, "subnet.env")}
	n.writeSubnet(testSubnetEnv)
	conflist := fmt.Sprintf(`{"cniVersion": %q, "name": "rudder", "plugins": [{"type": "rudder", "bridge": "cni0",
		"subnetFile": %q, "dataDir": %q, "hairpinMode": true, "ipMasq": true}]}`, v, n.subnetFile, n.dataDir)
	list, err := libcni.NetworkConfFromBytes([]byte(conflist))
	if err != nil {
		t.Fatal(err)
	}
	n.list = list
	n.cni = libcni.NewCNIConfigWithCacheDir([]string{binDir}, filepath.Join(dir, "cache"), &nodeExec{node: n.ns, raw: invoke.RawExec{Stderr: os.Stderr}})
	return n
}

func (n *node) writeSubnet(content string) {
	if err := os.WriteFile(n.subnetFile, []byte(content), 0o644); err != nil {
		n.t.Fatal(err)
	}
}

// pod creates a pod namespace on the node.
func (n *node) pod(name string) ns.NetNS { return newNetns(n.t, n.prefix+"-"+name) }

func (n *node) rt(id string, pod ns.NetNS) *libcni.RuntimeConf {
	rt := &libcni.RuntimeConf{ContainerID: id, IfName: "eth0"}
	if pod != nil {
		rt.NetNS = pod.Path()
	}
	return rt
}
