package plugin

import (
	"net/netip"
	"strings"
	"testing"

	"rudder/ipam/hostlocal"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
)

// TestErrorCodes drives every verb into every error it can answer with,
// without a kernel: code and a message that says what to fix.
func TestErrorCodes(t *testing.T) {
	c := func(fields map[string]any) []byte { return conf(t, "1.1.0", fields) }
	ranges := func(r ...map[string]string) [][]map[string]string { return [][]map[string]string{r} }
	for _, tc := range []struct {
		name  string
		verb  string // default ADD
		args  *skel.CmdArgs
		files map[string]string // replaces the subnet file when set
		setup func(*unitEnv)
		code  uint
		msg   string
	}{
		// 1: incompatible version.
		{name: "old version", args: cmdArgs("c1", "/run/netns/p", c(map[string]any{"cniVersion": "0.2.0"})), code: types.ErrIncompatibleCNIVersion, msg: `cniVersion "0.2.0" is not supported`},
		{name: "no version", args: cmdArgs("c1", "/run/netns/p", c(map[string]any{"cniVersion": nil})), code: types.ErrIncompatibleCNIVersion, msg: `cniVersion "" is not supported`},
		{name: "future version", args: cmdArgs("c1", "/run/netns/p", c(map[string]any{"cniVersion": "2.0.0"})), code: types.ErrIncompatibleCNIVersion, msg: "use one of [0.3.1 0.4.0 1.0.0 1.1.0]"},
		// 4: bad environment.
		{name: "container id", args: cmdArgs("-bad", "/run/netns/p", c(nil)), code: types.ErrInvalidEnvironmentVariables, msg: `CNI_CONTAINERID="-bad" is invalid`},
		{name: "ifname too long", args: &skel.CmdArgs{ContainerID: "c1", Netns: "/run/netns/p", IfName: "a-very-long-ifname", StdinData: c(nil)}, code: types.ErrInvalidEnvironmentVariables, msg: "CNI_IFNAME"},
		{name: "ifname slash", args: &skel.CmdArgs{ContainerID: "c1", Netns: "/run/netns/p", IfName: "a/b", StdinData: c(nil)}, code: types.ErrInvalidEnvironmentVariables, msg: "must not contain '/'"},
		{name: "relative netns", args: cmdArgs("c1", "netns/p", c(nil)), code: types.ErrInvalidEnvironmentVariables, msg: `CNI_NETNS="netns/p" is invalid`},
		{name: "check without netns", verb: "CHECK", args: cmdArgs("c1", "", c(nil)), code: types.ErrInvalidEnvironmentVariables, msg: "CNI_NETNS"},
		{name: "cni args", args: &skel.CmdArgs{ContainerID: "c1", Netns: "/run/netns/p", IfName: "eth0", Args: "K8S_POD_NAME=x;junk", StdinData: c(nil)}, code: types.ErrInvalidEnvironmentVariables, msg: "CNI_ARGS"},
		{name: "netns does not exist", args: cmdArgs("c1", "/run/netns/nope", c(nil)), code: types.ErrInvalidEnvironmentVariables, msg: `CNI_NETNS="/run/netns/nope": open /run/netns/nope: no such network namespace`},
		// 6: decode.
		{name: "not json", args: cmdArgs("c1", "/run/netns/p", []byte("{nope")), code: types.ErrDecodingFailure, msg: "decode network config"},
		{name: "mtu a string", args: cmdArgs("c1", "/run/netns/p", c(map[string]any{"mtu": "big"})), code: types.ErrDecodingFailure, msg: "mtu"},
		{name: "bad prevResult", args: cmdArgs("c1", "/run/netns/p", c(map[string]any{"prevResult": map[string]any{"ips": "x"}})), code: types.ErrDecodingFailure, msg: "prevResult"},
		// 7: invalid config.
		{name: "no name", args: cmdArgs("c1", "/run/netns/p", c(map[string]any{"name": nil})), code: types.ErrInvalidNetworkConfig, msg: `"name" is missing`},
		{name: "bad name", args: cmdArgs("c1", "/run/netns/p", c(map[string]any{"name": "a/b"})), code: types.ErrInvalidNetworkConfig, msg: `"name" "a/b" is invalid`},
		{name: "ipam section", args: cmdArgs("c1", "/run/netns/p", c(map[string]any{"ipam": map[string]any{"type": "host-local"}})), code: types.ErrInvalidNetworkConfig, msg: "does its own IPAM"},
		{name: "bridge name", args: cmdArgs("c1", "/run/netns/p", c(map[string]any{"bridge": "a-bridge-name-too-long"})), code: types.ErrInvalidNetworkConfig, msg: `"bridge"`},
		{name: "mtu range", args: cmdArgs("c1", "/run/netns/p", c(map[string]any{"mtu": 20})), code: types.ErrInvalidNetworkConfig, msg: `"mtu" 20 is out of range`},
		{name: "data dir", args: cmdArgs("c1", "/run/netns/p", c(map[string]any{"dataDir": "var/lib"})), code: types.ErrInvalidNetworkConfig, msg: `"dataDir" "var/lib" must be an absolute path`},
		{name: "subnet file", args: cmdArgs("c1", "/run/netns/p", c(map[string]any{"subnetFile": "subnet.env"})), code: types.ErrInvalidNetworkConfig, msg: `"subnetFile"`},
		{name: "both sources", args: cmdArgs("c1", "/run/netns/p", c(map[string]any{"ranges": ranges(map[string]string{"subnet": "10.1.0.0/24"})})), code: types.ErrInvalidNetworkConfig, msg: `either "subnetFile" or "ranges"`},
		{name: "two range sets", args: cmdArgs("c1", "/run/netns/p", c(map[string]any{"subnetFile": nil, "ranges": [][]map[string]string{{{"subnet": "10.1.0.0/24"}}, {{"subnet": "10.2.0.0/24"}}}})), code: types.ErrInvalidNetworkConfig, msg: "2 range sets"},
		{name: "ipv6 range", args: cmdArgs("c1", "/run/netns/p", c(map[string]any{"subnetFile": nil, "ranges": ranges(map[string]string{"subnet": "fd00::/64"})})), code: types.ErrInvalidNetworkConfig, msg: "IPv6 pod ranges are not supported"},
		{name: "bad subnet", args: cmdArgs("c1", "/run/netns/p", c(map[string]any{"subnetFile": nil, "ranges": ranges(map[string]string{"subnet": "10.1.0.0"})})), code: types.ErrInvalidNetworkConfig, msg: `subnet "10.1.0.0" is not a CIDR`},
		{name: "range start outside", args: cmdArgs("c1", "/run/netns/p", c(map[string]any{"subnetFile": nil, "ranges": ranges(map[string]string{"subnet": "10.1.0.0/24", "rangeStart": "10.2.0.1"})})), code: types.ErrInvalidNetworkConfig, msg: "rangeStart 10.2.0.1 is not a usable address of 10.1.0.0/24"},
		{name: "cluster cidr", args: cmdArgs("c1", "/run/netns/p", c(map[string]any{"clusterCIDR": "10.244.0.0"})), code: types.ErrInvalidNetworkConfig, msg: `"clusterCIDR"`},
		{name: "cluster cidr outside", args: cmdArgs("c1", "/run/netns/p", c(map[string]any{"subnetFile": nil, "clusterCIDR": "10.0.0.0/16", "ranges": ranges(map[string]string{"subnet": "10.1.0.0/24"})})), code: types.ErrInvalidNetworkConfig, msg: "does not contain the pod range 10.1.0.0/24"},
		{name: "route", args: cmdArgs("c1", "/run/netns/p", c(map[string]any{"routes": []map[string]string{{"dst": "fd00::/8"}}})), code: types.ErrInvalidNetworkConfig, msg: `"routes"[0]`},
		{name: "check needs prevResult", verb: "CHECK", args: cmdArgs("c1", "/run/netns/p", c(nil)), code: types.ErrInvalidNetworkConfig, msg: "CHECK needs prevResult"},
		{name: "subnet file garbage", files: map[string]string{testSubnetFile: "RUDDER_SUBNET=10.244.1.1"}, args: cmdArgs("c1", "/run/netns/p", c(nil)), code: types.ErrInvalidNetworkConfig, msg: `RUDDER_SUBNET="10.244.1.1" is not an IPv4 gateway/prefix`},
		{name: "subnet outside network", files: map[string]string{testSubnetFile: "RUDDER_NETWORK=10.0.0.0/16\nRUDDER_SUBNET=10.244.1.1/24"}, args: cmdArgs("c1", "/run/netns/p", c(nil)), code: types.ErrInvalidNetworkConfig, msg: "cluster CIDR 10.0.0.0/16 does not contain the pod range 10.244.1.0/24"},
		// 11: try again later.
		{name: "no subnet file", files: map[string]string{}, args: cmdArgs("c1", "/run/netns/p", c(nil)), code: types.ErrTryAgainLater, msg: "subnet file /run/rudder/subnet.env does not exist (is rudder netd running on this node?)"},
		{name: "no RUDDER_SUBNET", files: map[string]string{testSubnetFile: "RUDDER_MTU=1450\n"}, args: cmdArgs("c1", "/run/netns/p", c(nil)), code: types.ErrTryAgainLater, msg: "has no RUDDER_SUBNET"},
		{name: "check, no subnet file", verb: "CHECK", files: map[string]string{}, args: cmdArgs("c1", "/run/netns/p", c(map[string]any{"prevResult": map[string]any{"cniVersion": "1.1.0"}})), code: types.ErrTryAgainLater, msg: "does not exist"},
		// 50, 51: STATUS.
		{name: "status, no subnet file", verb: "STATUS", files: map[string]string{}, args: cmdArgs("", "", c(nil)), code: types.ErrPluginNotAvailable, msg: "not ready: this node has no pod range yet"},
		{name: "status, empty subnet file", verb: "STATUS", files: map[string]string{testSubnetFile: ""}, args: cmdArgs("", "", c(nil)), code: types.ErrPluginNotAvailable, msg: "has no RUDDER_SUBNET"},
		{name: "status, broken store", verb: "STATUS", args: cmdArgs("", "", c(map[string]any{"dataDir": "/broken"})), code: types.ErrLimitedConnectivity, msg: "IPAM store of network rudder under /broken is unusable: read-only file system"},
		{name: "status, range exhausted", verb: "STATUS", files: map[string]string{testSubnetFile: "RUDDER_SUBNET=10.244.1.1/30"}, args: cmdArgs("", "", c(nil)),
			setup: func(e *unitEnv) {
				_, _ = e.store().Reserve(hostlocal.Attachment{ContainerID: "x", IfName: "eth0"}, netip.MustParseAddr("10.244.1.2"), "0")
			},
			code: types.ErrPluginNotAvailable, msg: "no IP addresses available in range 10.244.1.0/30 (1 usable addresses, all in use)"},
		// 999: a store that cannot be opened is not the config's fault.
		{name: "add, broken store", args: cmdArgs("c1", "/run/netns/p", c(map[string]any{"dataDir": "/broken"})), code: types.ErrInternal, msg: "(is dataDir writable?)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newUnitEnv(t)
			e.dp.AddNetns("/run/netns/p")
			if tc.files != nil {
				e.files = tc.files
			}
			if tc.setup != nil {
				tc.setup(e)
			}
			if tc.args.IfName == "" && tc.verb != "STATUS" {
				tc.args.IfName = "eth0"
			}
			verbs := map[string]func(*skel.CmdArgs) error{"": e.p.Add, "CHECK": e.p.Check, "STATUS": e.p.Status}
			err := verbs[tc.verb](tc.args)
			if code(err) != tc.code || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got code %d %q\nwant code %d containing %q", code(err), err, tc.code, tc.msg)
			}
			if list, _ := e.store().List(); len(list) != 0 && tc.setup == nil {
				t.Fatalf("a failed %s left reservations %v", tc.verb, list)
			}
		})
	}
}

func TestParseConfigDefaults(t *testing.T) {
	got, err := ParseConfig([]byte(`{"cniVersion":"0.4.0","name":"n","type":"rudder"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got.Bridge != "cni0" || got.SubnetFile != DefaultSubnetFile || got.DataDir != "/var/lib/cni/networks" ||
		!got.Hairpin || got.IPMasq != nil || got.MTU != 0 || got.Ranges != nil {
		t.Fatalf("defaults: %+v", got)
	}
	got, err = ParseConfig([]byte(`{"cniVersion":"1.1.0","name":"n","hairpinMode":false,"ipMasq":false,
		"ranges":[[{"subnet":"10.9.0.0/24","rangeStart":"10.9.0.100","rangeEnd":"10.9.0.200","gateway":"10.9.0.254"}]],
		"routes":[{"dst":"192.168.0.0/16"},{"dst":"172.16.0.0/12","gw":"10.9.0.253"}],
		"cni.dev/valid-attachments":[{"containerID":"a","ifname":"eth0"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got.Hairpin || got.IPMasq == nil || *got.IPMasq || got.SubnetFile != "" || len(got.Ranges) != 1 ||
		got.Ranges[0].Gateway.String() != "10.9.0.254" || len(got.Routes) != 2 || got.Routes[0].GW.IsValid() ||
		got.Routes[1].GW.String() != "10.9.0.253" || len(got.ValidAttachments) != 1 {
		t.Fatalf("explicit: %+v", got)
	}
}

func TestParseSubnetEnv(t *testing.T) {
	env, err := ParseSubnetEnv([]byte("# written by netd\n" + testSubnetEnv + "OTHER=1\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	if env.Network.String() != "10.244.0.0/16" || env.Subnet.String() != "10.244.1.1/24" || env.MTU != 1450 || env.IPMasq == nil || !*env.IPMasq {
		t.Fatalf("parsed %+v", env)
	}
	for _, bad := range []string{"RUDDER_MTU=9\n", "RUDDER_IPMASQ=maybe\n", "no equals sign\n", "RUDDER_NETWORK=x\n"} {
		if _, err := ParseSubnetEnv([]byte(bad)); err == nil {
			t.Errorf("%q parsed without error", bad)
		}
	}
	nw, err := combine(&NetConf{SubnetFile: "f"}, SubnetEnv{Subnet: mustPrefix(t, "10.5.0.0/24")})
	if err != nil || nw.Ranges[0].Gateway.String() != "10.5.0.1" || nw.MTU != DefaultMTU || nw.IPMasq {
		t.Fatalf("a bare network in RUDDER_SUBNET: %+v, %v", nw, err)
	}
}
