package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/vishvananda/netlink"

	"rudder/ipam/hostlocal"
)

// TestConcurrentAdds runs 100 ADDs at once on one node, then 100 DELs.
func TestConcurrentAdds(t *testing.T) {
	requireRoot(t)
	const pods = 100
	n := newNode(t, pluginDir, "1.1.0")
	netns := make([]ns.NetNS, pods)
	for i := range netns {
		netns[i] = n.pod(fmt.Sprintf("p%d", i))
	}
	ips := make([]netip.Addr, pods)
	parallel(t, pods, func(i int) error {
		res, err := n.add(fmt.Sprintf("ctr-%d", i), netns[i])
		if err == nil {
			ips[i] = podIP(t, res)
		}
		return err
	})
	seen := map[netip.Addr]int{}
	for i, ip := range ips {
		if j, dup := seen[ip]; dup {
			t.Fatalf("pods %d and %d both got %s", j, i, ip)
		}
		seen[ip] = i
	}
	if r, vs := n.reservations(), n.hostVeths(); len(r) != pods || len(vs) != pods {
		t.Fatalf("after %d ADDs: %d reservations, %d host veths", pods, len(r), len(vs))
	}
	parallel(t, pods, func(i int) error {
		return n.cni.DelNetworkList(context.Background(), n.list, n.rt(fmt.Sprintf("ctr-%d", i), netns[i]))
	})
	if r, vs := n.reservations(), n.hostVeths(); len(r) != 0 || len(vs) != 0 {
		t.Fatalf("after DELs: reservations %v, host veths %v", r, vs)
	}
}

func parallel(t *testing.T, n int, fn func(i int) error) {
	t.Helper()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Go(func() { errs[i] = fn(i) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
}

// TestGCReclaimsCrashLeftovers: an ADD that died after reserving (files
// written, no veth) and one that died after creating the veth leave
// state no runtime knows of; GC removes it and keeps the live pod.
func TestGCReclaimsCrashLeftovers(t *testing.T) {
	requireRoot(t)
	n := newNode(t, pluginDir, "1.1.0")
	live := n.pod("live")
	n.mustAdd("ctr-live", live)
	store, err := hostlocal.NewDiskStore(hostlocal.DiskStoreConfig{DataDir: n.dataDir, Network: "rudder"})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for i, ip := range []string{"10.244.1.50", "10.244.1.51"} {
		att := hostlocal.Attachment{ContainerID: fmt.Sprintf("crashed-%d", i), IfName: "eth0"}
		if _, err := store.Reserve(att, netip.MustParseAddr(ip), "0"); err != nil {
			t.Fatal(err)
		}
	}
	orphan := hostlocal.Attachment{ContainerID: "crashed-1", IfName: "eth0"}
	inNetns(t, n.ns, func() error {
		attrs := netlink.NewLinkAttrs()
		attrs.Name = hostVethName("rudder", orphan)
		if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: attrs, PeerName: "orphan-peer"}); err != nil {
			return err
		}
		return netlink.LinkSetAlias(&netlink.Veth{LinkAttrs: attrs}, vethAlias("rudder", orphan))
	})
	if r, vs := n.reservations(), n.hostVeths(); len(r) != 3 || len(vs) != 2 {
		t.Fatalf("before GC: reservations %v, veths %v", r, vs)
	}
	if err := n.gc("ctr-live"); err != nil {
		t.Fatalf("GC: %v", err)
	}
	r, vs := n.reservations(), n.hostVeths()
	if len(r) != 1 || r[0].Attachment.ContainerID != "ctr-live" || len(vs) != 1 || !strings.HasSuffix(vs[0].Alias, "/ctr-live/eth0") {
		t.Fatalf("after GC: reservations %v, veths %v", r, vs)
	}
	if err := n.check("ctr-live", live); err != nil {
		t.Fatalf("CHECK of the live pod after GC: %v", err)
	}
}

// TestBinaryErrors runs the binary by hand, as a runtime would, for the
// errors skel answers before the plugin's code runs.
func TestBinaryErrors(t *testing.T) {
	requireRoot(t)
	n := newNode(t, pluginDir, "1.1.0")
	pod := n.pod("p")
	conf := func(v string) string {
		return fmt.Sprintf(`{"cniVersion":%q,"name":"rudder","type":"rudder","subnetFile":%q,"dataDir":%q}`, v, n.subnetFile, n.dataDir)
	}
	for _, tc := range []struct {
		name, stdin string
		env         []string
		code        uint
		msg         string
	}{
		{name: "missing ifname", stdin: conf("1.1.0"), env: []string{"CNI_COMMAND=ADD", "CNI_CONTAINERID=c", "CNI_NETNS=" + pod.Path()},
			code: types.ErrInvalidEnvironmentVariables, msg: "CNI_IFNAME"},
		{name: "unknown command", stdin: conf("1.1.0"), env: []string{"CNI_COMMAND=FROB"}, code: types.ErrInvalidEnvironmentVariables, msg: "unknown CNI_COMMAND"},
		{name: "old version", stdin: conf("0.1.0"), env: []string{"CNI_COMMAND=ADD", "CNI_CONTAINERID=c", "CNI_NETNS=" + pod.Path(), "CNI_IFNAME=eth0"},
			code: types.ErrIncompatibleCNIVersion, msg: "incompatible CNI versions"},
		{name: "status of 0.4.0", stdin: conf("0.4.0"), env: []string{"CNI_COMMAND=STATUS"}, code: types.ErrIncompatibleCNIVersion, msg: "does not allow STATUS"},
		{name: "check of 0.3.1", stdin: conf("0.3.1"), env: []string{"CNI_COMMAND=CHECK", "CNI_CONTAINERID=c", "CNI_NETNS=" + pod.Path(), "CNI_IFNAME=eth0"},
			code: types.ErrIncompatibleCNIVersion, msg: "does not allow CHECK"},
		{name: "not json", stdin: "{", env: []string{"CNI_COMMAND=DEL", "CNI_CONTAINERID=c", "CNI_IFNAME=eth0"}, code: types.ErrDecodingFailure, msg: "unmarshal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out []byte
			inNetns(t, n.ns, func() error {
				cmd := exec.Command(filepath.Join(pluginDir, "rudder"))
				cmd.Env = append([]string{"CNI_PATH=" + pluginDir}, tc.env...)
				cmd.Stdin = strings.NewReader(tc.stdin)
				out, _ = cmd.Output()
				return nil
			})
			var e types.Error
			if err := json.Unmarshal(out, &e); err != nil || e.Code != tc.code || !strings.Contains(e.Msg+e.Details, tc.msg) {
				t.Fatalf("printed %s; want code %d containing %q", out, tc.code, tc.msg)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(n.dataDir, "rudder")); err == nil {
		if r := n.reservations(); len(r) != 0 {
			t.Fatalf("failed calls left reservations %v", r)
		}
	}
}
