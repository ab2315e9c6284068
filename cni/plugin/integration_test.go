package plugin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/types"
	types100 "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/vishvananda/netlink"

	"rudder/ipam/hostlocal"
)

// integrationVersions are the conflist versions driven through libcni.
var integrationVersions = []string{"1.1.0", "0.4.0"}

func (n *node) add(id string, pod ns.NetNS) (*types100.Result, error) {
	res, err := n.cni.AddNetworkList(context.Background(), n.list, n.rt(id, pod))
	if err != nil {
		return nil, err
	}
	return types100.NewResultFromResult(res)
}

func (n *node) mustAdd(id string, pod ns.NetNS) *types100.Result {
	n.t.Helper()
	res, err := n.add(id, pod)
	if err != nil {
		n.t.Fatalf("ADD %s: %v", id, err)
	}
	return res
}

func (n *node) del(id string, pod ns.NetNS) {
	n.t.Helper()
	if err := n.cni.DelNetworkList(context.Background(), n.list, n.rt(id, pod)); err != nil {
		n.t.Fatalf("DEL %s: %v", id, err)
	}
}

func (n *node) check(id string, pod ns.NetNS) error {
	return n.cni.CheckNetworkList(context.Background(), n.list, n.rt(id, pod))
}

func (n *node) gc(valid ...string) error {
	args := &libcni.GCArgs{}
	for _, id := range valid {
		args.ValidAttachments = append(args.ValidAttachments, types.GCAttachment{ContainerID: id, IfName: "eth0"})
	}
	return n.cni.GCNetworkList(context.Background(), n.list, args)
}

// reservations lists the IPAM files on disk.
func (n *node) reservations() []hostlocal.Reservation {
	n.t.Helper()
	s, err := hostlocal.NewDiskStore(hostlocal.DiskStoreConfig{DataDir: n.dataDir, Network: "rudder"})
	if err != nil {
		n.t.Fatal(err)
	}
	defer s.Close()
	list, err := s.List()
	if err != nil {
		n.t.Fatal(err)
	}
	return list
}

// hostVeths lists the plugin's veths in the node namespace.
func (n *node) hostVeths() []HostVeth {
	n.t.Helper()
	var out []HostVeth
	inNetns(n.t, n.ns, func() (err error) {
		out, err = NewNetlink(NetlinkConfig{}).ListHostVeths(HostVethPrefix)
		return err
	})
	return out
}

func podIP(t testing.TB, res *types100.Result) netip.Addr {
	t.Helper()
	if len(res.IPs) != 1 {
		t.Fatalf("result has %d IPs: %v", len(res.IPs), res)
	}
	a, _ := netip.AddrFromSlice(res.IPs[0].Address.IP)
	return a.Unmap()
}

func wantCode(t testing.TB, err error, code uint, msg string) {
	t.Helper()
	var te *types.Error
	if !errors.As(err, &te) || te.Code != code || !strings.Contains(te.Msg, msg) {
		t.Fatalf("got %v, want CNI error %d containing %q", err, code, msg)
	}
}

// rootSnapshot is what the test must never change in the root namespace.
type rootSnapshot struct {
	cni0      int // ifindex of a cni0 there before the test, or 0
	ipForward string
}

func snapshotRoot(t testing.TB) rootSnapshot {
	var s rootSnapshot
	if l, err := netlink.LinkByName("cni0"); err == nil {
		s.cni0 = l.Attrs().Index
	}
	fwd, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	s.ipForward = string(fwd)
	return s
}

// assertRootUntouched checks that the plugin worked in the node namespace
// only: no bridge, veth or sysctl change in the root one.
func assertRootUntouched(t testing.TB, before rootSnapshot) {
	t.Helper()
	after := snapshotRoot(t)
	if after != before {
		t.Fatalf("root namespace changed: before %+v, after %+v", before, after)
	}
	veths, err := NewNetlink(NetlinkConfig{}).ListHostVeths(HostVethPrefix)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range veths {
		if strings.HasPrefix(v.Alias, aliasPrefix+"rudder/") {
			t.Fatalf("host veth %s (%s) landed in the root namespace", v.Name, v.Alias)
		}
	}
}

func TestPluginLifecycle(t *testing.T) {
	requireRoot(t)
	for _, v := range integrationVersions {
		t.Run(v, func(t *testing.T) { testLifecycle(t, v) })
	}
}

func testLifecycle(t *testing.T, v string) {
	root := snapshotRoot(t)
	n := newNode(t, pluginDir, v)
	podA, podB := n.pod("a"), n.pod("b")
	resA := n.mustAdd("ctr-a", podA)
	resB := n.mustAdd("ctr-b", podB)
	ipA, ipB := podIP(t, resA), podIP(t, resB)
	if ipA == ipB || !netip.MustParsePrefix("10.244.1.0/24").Contains(ipA) || ipA.String() == "10.244.1.1" {
		t.Fatalf("addresses %s and %s", ipA, ipB)
	}
	assertNodeWiring(t, n, resA)
	assertRootUntouched(t, root)

	if err := n.check("ctr-a", podA); err != nil {
		t.Fatalf("CHECK of a healthy pod: %v", err)
	}
	_, err := n.add("ctr-a", podA)
	wantCode(t, err, CodeAttachmentExists, "container ctr-a interface eth0 holds "+ipA.String())

	assertPing(t, podA, ipB)
	assertTCP(t, podB, podA, ipA)

	deleteDefaultRoute(t, podA)
	err = n.check("ctr-a", podA)
	wantCode(t, err, CodeCheckFailed, "route 0.0.0.0/0 via 10.244.1.1 is missing on eth0")

	n.del("ctr-a", podA)
	n.del("ctr-a", podA) // twice is fine
	removeNetns(podB.Path())
	n.del("ctr-b", podB) // the netns is gone
	if r, vs := n.reservations(), n.hostVeths(); len(r) != 0 || len(vs) != 0 {
		t.Fatalf("after DEL: reservations %v, host veths %v", r, vs)
	}

	testGC(t, n, v)
	testStatus(t, n, v)
	assertRootUntouched(t, root)
}

// assertNodeWiring checks bridge, port, sysctls and masquerade in the node.
func assertNodeWiring(t *testing.T, n *node, res *types100.Result) {
	t.Helper()
	host := res.Interfaces[1].Name
	inNetns(t, n.ns, func() error {
		br, err := netlink.LinkByName("cni0")
		if err != nil {
			return fmt.Errorf("bridge cni0 not in the node namespace: %w", err)
		}
		addrs, _ := netlink.AddrList(br, netlink.FAMILY_V4)
		if br.Attrs().MTU != 1450 || len(addrs) != 1 || addrs[0].IPNet.String() != "10.244.1.1/24" {
			return fmt.Errorf("bridge: mtu %d addrs %v", br.Attrs().MTU, addrs)
		}
		st, err := inspectHost(host)
		if err != nil || !st.Found || st.Master != "cni0" || !st.Hairpin || st.MTU != 1450 || !st.Up {
			return fmt.Errorf("host veth %s: %+v, %v", host, st, err)
		}
		for key, want := range map[string]string{"net/bridge/bridge-nf-call-iptables": "1", "net/ipv4/ip_forward": "1"} {
			if got, _ := os.ReadFile("/proc/sys/" + key); strings.TrimSpace(string(got)) != want {
				return fmt.Errorf("sysctl %s = %q, want %s", key, got, want)
			}
		}
		out, err := exec.Command("iptables", "-t", "nat", "-S", "POSTROUTING").CombinedOutput()
		if err != nil || strings.Count(string(out), "-s 10.244.1.0/24 ! -d 10.244.0.0/16") != 1 || !strings.Contains(string(out), "MASQUERADE") {
			return fmt.Errorf("masquerade rule missing or doubled: %s %v", out, err)
		}
		return nil
	})
	if res.Interfaces[2].Sandbox == "" || res.IPs[0].Gateway.String() != "10.244.1.1" || *res.IPs[0].Interface != 2 {
		t.Fatalf("result: %+v", res)
	}
}

func deleteDefaultRoute(t *testing.T, pod ns.NetNS) {
	inNetns(t, pod, func() error {
		_, dflt, _ := net.ParseCIDR("0.0.0.0/0")
		return netlink.RouteDel(&netlink.Route{Dst: dflt, Gw: net.ParseIP("10.244.1.1")})
	})
}

func testGC(t *testing.T, n *node, v string) {
	podC, podD := n.pod("c"), n.pod("d")
	n.mustAdd("ctr-c", podC)
	n.mustAdd("ctr-d", podD)
	if err := n.gc("ctr-c"); err != nil {
		t.Fatalf("GC: %v", err)
	}
	r, vs := n.reservations(), n.hostVeths()
	if len(r) != 1 || r[0].Attachment.ContainerID != "ctr-c" || len(vs) != 1 || !strings.HasSuffix(vs[0].Alias, "/ctr-c/eth0") {
		t.Fatalf("cniVersion %s, after GC keeping ctr-c: reservations %v, veths %v", v, r, vs)
	}
	if err := n.check("ctr-c", podC); err != nil {
		t.Fatalf("CHECK of the pod GC kept: %v", err)
	}
	n.del("ctr-c", podC)
}

func testStatus(t *testing.T, n *node, v string) {
	ctx := context.Background()
	if err := n.cni.GetStatusNetworkList(ctx, n.list); err != nil {
		t.Fatalf("STATUS: %v", err)
	}
	os.Remove(n.subnetFile)
	err := n.cni.GetStatusNetworkList(ctx, n.list)
	if v != "1.1.0" { // libcni does not ask plugins of older configs
		if err != nil {
			t.Fatalf("STATUS of a %s config: %v", v, err)
		}
		return
	}
	wantCode(t, err, types.ErrPluginNotAvailable, "subnet file "+n.subnetFile+" does not exist")
	_, err = n.add("ctr-e", n.pod("e"))
	wantCode(t, err, types.ErrTryAgainLater, "retry once netd has written it")
	n.writeSubnet(testSubnetEnv)
	// A data dir that cannot hold the store: 51.
	if err := os.RemoveAll(n.dataDir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(n.dataDir, []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	wantCode(t, n.cni.GetStatusNetworkList(ctx, n.list), types.ErrLimitedConnectivity, "IPAM store of network rudder under "+n.dataDir+" is unusable")
	if err := os.Remove(n.dataDir); err != nil {
		t.Fatal(err)
	}
	if err := n.cni.GetStatusNetworkList(ctx, n.list); err != nil {
		t.Fatalf("STATUS once the data dir is back: %v", err)
	}
}

func assertPing(t *testing.T, from ns.NetNS, to netip.Addr) {
	t.Helper()
	inNetns(t, from, func() error { return ping(to, 2*time.Second) })
}

// assertTCP has server listen in its namespace and client connect to it.
func assertTCP(t *testing.T, client, server ns.NetNS, serverIP netip.Addr) {
	t.Helper()
	var ln net.Listener
	inNetns(t, server, func() (err error) {
		ln, err = net.Listen("tcp4", "0.0.0.0:7777")
		return err
	})
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_, _ = c.Write([]byte("hello from " + serverIP.String()))
			c.Close()
		}
	}()
	inNetns(t, client, func() error {
		c, err := net.DialTimeout("tcp4", netip.AddrPortFrom(serverIP, 7777).String(), 2*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		buf := make([]byte, 64)
		k, err := c.Read(buf)
		if err != nil || string(buf[:k]) != "hello from "+serverIP.String() {
			return fmt.Errorf("read %q, %v", buf[:k], err)
		}
		return nil
	})
}
