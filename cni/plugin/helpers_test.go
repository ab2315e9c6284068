package plugin

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"maps"
	"net/netip"
	"sync"
	"testing"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	types100 "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/cni/pkg/types/create"

	"rudder/ipam/hostlocal"
)

const testSubnetFile = "/run/rudder/subnet.env"

const testSubnetEnv = `RUDDER_NETWORK=10.244.0.0/16
RUDDER_SUBNET=10.244.1.1/24
RUDDER_MTU=1450
RUDDER_IPMASQ=true
`

// unitEnv is a Plugin over the fake dataplane, in-memory stores and an
// in-memory file system.
type unitEnv struct {
	t      *testing.T
	dp     *FakeDataplane
	mu     sync.Mutex
	stores map[string]*hostlocal.MemStore
	files  map[string]string
	p      *Plugin
	out    bytes.Buffer
}

func newUnitEnv(t *testing.T) *unitEnv {
	e := &unitEnv{t: t, dp: NewFakeDataplane(), stores: map[string]*hostlocal.MemStore{},
		files: map[string]string{testSubnetFile: testSubnetEnv}}
	e.p = New(Config{Dataplane: e.dp, OpenStore: e.openStore, ReadFile: e.readFile, Stdout: &e.out})
	return e
}

func (e *unitEnv) openStore(dataDir, network string) (hostlocal.Store, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if dataDir == "/broken" {
		return nil, errors.New("read-only file system")
	}
	key := dataDir + "/" + network
	if e.stores[key] == nil {
		e.stores[key] = hostlocal.NewMemStore()
	}
	return e.stores[key], nil
}

func (e *unitEnv) store() *hostlocal.MemStore {
	s, _ := e.openStore(hostlocal.DefaultDataDir, "rudder")
	return s.(*hostlocal.MemStore)
}

func (e *unitEnv) readFile(path string) ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	data, ok := e.files[path]
	if !ok {
		return nil, fs.ErrNotExist
	}
	return []byte(data), nil
}

// conf is the contract's conflist entry at version, with fields replaced
// or (nil) removed.
func conf(t testing.TB, version string, fields map[string]any) []byte {
	c := map[string]any{"cniVersion": version, "name": "rudder", "type": "rudder", "bridge": "cni0",
		"subnetFile": testSubnetFile, "hairpinMode": true}
	maps.Copy(c, fields)
	for k, v := range fields {
		if v == nil {
			delete(c, k)
		}
	}
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func cmdArgs(id, netns string, stdin []byte) *skel.CmdArgs {
	return &skel.CmdArgs{ContainerID: id, Netns: netns, IfName: "eth0", Path: "/opt/cni/bin", StdinData: stdin}
}

// add runs ADD and returns the result as 1.1.0.
func (e *unitEnv) add(args *skel.CmdArgs) (*types100.Result, error) {
	e.out.Reset()
	if err := e.p.Add(args); err != nil {
		return nil, err
	}
	var probe struct {
		CNIVersion string `json:"cniVersion"`
	}
	if err := json.Unmarshal(e.out.Bytes(), &probe); err != nil {
		e.t.Fatalf("ADD printed %q: %v", e.out.String(), err)
	}
	res, err := create.Create(probe.CNIVersion, e.out.Bytes())
	if err != nil {
		e.t.Fatalf("parse ADD result %s: %v", e.out.String(), err)
	}
	return types100.NewResultFromResult(res)
}

func code(err error) uint {
	var te *types.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

func mustPrefix(t testing.TB, s string) netip.Prefix {
	t.Helper()
	p, err := netip.ParsePrefix(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
