package plugin

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
)

// FakeDataplane is a Dataplane in memory for tests: it keeps bridges, veth
// pairs, pod interfaces, sysctls and masquerade rules, fails a method on
// demand, and Dumps its state as sorted lines.
type FakeDataplane struct {
	mu      sync.Mutex
	netns   map[string]bool
	bridges map[string]*BridgeState
	veths   map[string]*fakeVeth
	pods    map[string]*PodState // key: netns + " " + ifname
	sysctls map[string]string
	masq    []Masquerade
	fail    map[string]error
	macs    int
}

type fakeVeth struct {
	HostState
	netns, ifname string
}

// NewFakeDataplane returns an empty fake.
func NewFakeDataplane() *FakeDataplane {
	return &FakeDataplane{
		netns: map[string]bool{}, bridges: map[string]*BridgeState{}, veths: map[string]*fakeVeth{},
		pods: map[string]*PodState{}, sysctls: map[string]string{}, fail: map[string]error{},
	}
}

// AddNetns makes a pod namespace path exist.
func (f *FakeDataplane) AddNetns(path string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.netns[path] = true
}

// RemoveNetns deletes a pod namespace, and with it the veths that had an
// end in it, as the kernel does.
func (f *FakeDataplane) RemoveNetns(path string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.netns, path)
	for name, v := range f.veths {
		if v.netns == path {
			delete(f.veths, name)
			delete(f.pods, v.netns+" "+v.ifname)
		}
	}
}

// Fail makes method (e.g. "ConfigurePod") return err until Fail(method, nil).
func (f *FakeDataplane) Fail(method string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[method] = err
}

// EditPod changes a pod interface's state in place (to break it for CHECK).
func (f *FakeDataplane) EditPod(netns, ifname string, edit func(*PodState)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p, ok := f.pods[netns+" "+ifname]; ok {
		edit(p)
	}
}

// AddHostVeth adds a lone host veth, as a crash would leave.
func (f *FakeDataplane) AddHostVeth(name, alias string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.veths[name] = &fakeVeth{HostState: HostState{Found: true, Alias: alias}}
}

func (f *FakeDataplane) failure(method string) error {
	if err := f.fail[method]; err != nil {
		return fmt.Errorf("fake %s: %w", method, err)
	}
	return nil
}

func (f *FakeDataplane) mac() string {
	f.macs++
	return fmt.Sprintf("02:00:00:00:%02x:%02x", f.macs>>8&0xff, f.macs&0xff)
}

// EnsureBridge creates or updates the bridge.
func (f *FakeDataplane) EnsureBridge(b Bridge) (Iface, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failure("EnsureBridge"); err != nil {
		return Iface{}, err
	}
	br, ok := f.bridges[b.Name]
	if !ok {
		br = &BridgeState{Found: true}
		f.bridges[b.Name] = br
	}
	br.Up, br.MTU = true, b.MTU
	for _, a := range b.Addrs {
		if !slices.Contains(br.Addrs, a) {
			br.Addrs = append(br.Addrs, a)
		}
	}
	return Iface{Name: b.Name, MAC: "02:b0:00:00:00:01", MTU: b.MTU}, nil
}

// EnsureSysctls records the values.
func (f *FakeDataplane) EnsureSysctls(s []Sysctl) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failure("EnsureSysctls"); err != nil {
		return err
	}
	for _, kv := range s {
		f.sysctls[kv.Key] = kv.Value
	}
	return nil
}

// EnsureMasquerade records the rule once.
func (f *FakeDataplane) EnsureMasquerade(m Masquerade) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failure("EnsureMasquerade"); err != nil {
		return err
	}
	if !slices.Contains(f.masq, m) {
		f.masq = append(f.masq, m)
	}
	return nil
}

// CreateVeth creates the pair.
func (f *FakeDataplane) CreateVeth(v Veth) (Iface, Iface, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.failure("CreateVeth") != nil:
		return Iface{}, Iface{}, f.failure("CreateVeth")
	case !f.netns[v.Netns]:
		return Iface{}, Iface{}, fmt.Errorf("open %s: %w", v.Netns, ErrNoNetns)
	case f.veths[v.HostName] != nil:
		return Iface{}, Iface{}, fmt.Errorf("%s: %w", v.HostName, ErrHostVethExists)
	case f.pods[v.Netns+" "+v.IfName] != nil:
		return Iface{}, Iface{}, fmt.Errorf("%s: %w", v.IfName, ErrPodIfaceExists)
	case f.bridges[v.Bridge] == nil:
		return Iface{}, Iface{}, fmt.Errorf("bridge %s not found", v.Bridge)
	}
	f.veths[v.HostName] = &fakeVeth{
		HostState: HostState{Found: true, Up: true, Master: v.Bridge, Hairpin: v.Hairpin, MTU: v.MTU, Alias: v.Alias},
		netns:     v.Netns, ifname: v.IfName,
	}
	pod := &PodState{Found: true, MTU: v.MTU, MAC: f.mac()}
	f.pods[v.Netns+" "+v.IfName] = pod
	return Iface{Name: v.HostName, MAC: f.mac(), MTU: v.MTU}, Iface{Name: v.IfName, MAC: pod.MAC, MTU: v.MTU}, nil
}

// ConfigurePod sets addresses and routes and brings the interface up.
func (f *FakeDataplane) ConfigurePod(p PodConfig) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failure("ConfigurePod"); err != nil {
		return err
	}
	pod := f.pods[p.Netns+" "+p.IfName]
	if pod == nil {
		return fmt.Errorf("%s not found in %s", p.IfName, p.Netns)
	}
	pod.Up = true
	pod.Addrs = append(pod.Addrs, p.Addrs...)
	pod.Routes = append(pod.Routes, p.Routes...)
	return nil
}

// DeleteVeth deletes both ends.
func (f *FakeDataplane) DeleteVeth(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failure("DeleteVeth"); err != nil {
		return err
	}
	if v, ok := f.veths[name]; ok {
		delete(f.pods, v.netns+" "+v.ifname)
		delete(f.veths, name)
	}
	return nil
}

// ListHostVeths lists host ends by prefix.
func (f *FakeDataplane) ListHostVeths(prefix string) ([]HostVeth, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failure("ListHostVeths"); err != nil {
		return nil, err
	}
	var out []HostVeth
	for name, v := range f.veths {
		if strings.HasPrefix(name, prefix) {
			out = append(out, HostVeth{Name: name, Alias: v.Alias})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Inspect copies the state of what q names.
func (f *FakeDataplane) Inspect(q InspectQuery) (State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.netns[q.Netns] {
		return State{}, fmt.Errorf("open %s: %w", q.Netns, ErrNoNetns)
	}
	var s State
	if b := f.bridges[q.Bridge]; b != nil {
		s.Bridge = *b
		s.Bridge.Addrs = slices.Clone(b.Addrs)
	}
	if v := f.veths[q.HostVeth]; v != nil {
		s.Host = v.HostState
	}
	if p := f.pods[q.Netns+" "+q.IfName]; p != nil {
		s.Pod = *p
		s.Pod.Addrs, s.Pod.Routes = slices.Clone(p.Addrs), slices.Clone(p.Routes)
	}
	return s, nil
}

// Dump returns the state as sorted lines.
func (f *FakeDataplane) Dump() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var lines []string
	for name, b := range f.bridges {
		lines = append(lines, fmt.Sprintf("bridge %s mtu=%d up=%v addrs=%v", name, b.MTU, b.Up, b.Addrs))
	}
	for name, v := range f.veths {
		lines = append(lines, fmt.Sprintf("veth %s master=%s hairpin=%v mtu=%d alias=%s peer=%s:%s",
			name, v.Master, v.Hairpin, v.MTU, v.Alias, v.netns, v.ifname))
	}
	for key, p := range f.pods {
		lines = append(lines, fmt.Sprintf("pod %s mtu=%d up=%v addrs=%v routes=%v", key, p.MTU, p.Up, p.Addrs, routesString(p.Routes)))
	}
	for k, v := range f.sysctls {
		lines = append(lines, fmt.Sprintf("sysctl %s=%s", k, v))
	}
	for _, m := range f.masq {
		lines = append(lines, fmt.Sprintf("masquerade %s !%s %q", m.Source, m.Exclude, m.Comment))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func routesString(rs []Route) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = describeRoute(r)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

var _ Dataplane = (*FakeDataplane)(nil)
