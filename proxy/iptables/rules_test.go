package iptables

import (
	"net/netip"
	"strings"
	"testing"

	"rudder/proxy/model"
)

// chainByPrefix returns the rules of pr's chain of the given kind.
func chainByPrefix(pr *portRules, kind string) []string {
	for _, c := range pr.chains {
		if strings.HasPrefix(c.Name, kind) {
			return c.Rules
		}
	}
	return nil
}

func TestBuildPort(t *testing.T) {
	node := testNode()
	three := clusterPort("three", "10.96.0.3", 80, "10.244.1.1:80", "10.244.1.2:80", "10.244.1.3:80")
	none := clusterPort("none", "10.96.0.4", 80)
	none.NodePort = 30004
	localNone := clusterPort("local-none", "10.96.0.5", 80, "10.244.2.5:80")
	localNone.NodePort, localNone.ExternalPolicyLocal = 30005, true
	v6 := clusterPort("v6", "fd00::1", 80, "[fd00::2]:80")
	v4v6 := clusterPort("v4v6", "10.96.0.6", 80, "[fd00::2]:80")
	for _, tc := range []struct {
		name string
		sp   model.ServicePort
		// substrings expected in the given part, "" parts skipped
		svc, filterSvc, filterExt string
		chains                    int
	}{
		{name: "statistic probabilities", sp: three, chains: 4,
			svc: "--probability 0.33333333333 -j RUDDER-SEP-|--probability 0.50000000000 -j RUDDER-SEP-"},
		{name: "no endpoints rejects", sp: none, chains: 0,
			filterSvc: `-d 10.96.0.4/32 -p tcp -m tcp --dport 80 -j REJECT`,
			filterExt: `-d 192.168.0.10/32 -m addrtype --dst-type LOCAL -p tcp -m tcp --dport 30004 -j REJECT`},
		{name: "eTP=Local without local endpoints drops", sp: localNone, chains: 3,
			filterExt: `--dport 30005 -j DROP`},
		{name: "IPv6 ignored", sp: v6, chains: 0},
		{name: "IPv4 cluster IP with only IPv6 endpoints rejects", sp: v4v6, chains: 0,
			filterSvc: `-d 10.96.0.6/32 -p tcp -m tcp --dport 80 -j REJECT`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pr := buildPort(&tc.sp, &node)
			if len(pr.chains) != tc.chains {
				t.Errorf("%d chains, want %d: %v", len(pr.chains), tc.chains, pr.chains)
			}
			for _, part := range []struct {
				want  string
				rules []string
			}{{tc.svc, chainByPrefix(pr, kindSVC)}, {tc.filterSvc, pr.filterServices}, {tc.filterExt, pr.filterExternal}} {
				all := strings.Join(part.rules, "\n")
				for _, w := range strings.Split(part.want, "|") {
					if w != "" && !strings.Contains(all, w) {
						t.Errorf("missing %q in:\n%s", w, all)
					}
				}
			}
		})
	}
}

func TestChainNames(t *testing.T) {
	n := portName("a-very-long-namespace-name-indeed", "and-a-very-long-service-name", "https-alt", model.SCTP)
	for _, c := range []string{portChain(kindSVC, n), portChain(kindEXT, n), sepChain(n, netip.MustParseAddrPort("10.0.0.1:1"))} {
		if len(c) > maxChainNameLength {
			t.Errorf("%s is %d characters, over %d", c, len(c), maxChainNameLength)
		}
	}
	if portChain(kindSVC, n) == portChain(kindSVC, portName("a", "b", "", model.TCP)) {
		t.Error("different ports share a chain name")
	}
}

func TestRestoreInputSkipsEmptyTables(t *testing.T) {
	tables := newTables()
	tables[tableFilter].writeChain(chain{Name: "RUDDER-X", Rules: []string{"-j ACCEPT"}})
	got := string(restoreInput(tableOrder, tables))
	want := "*filter\n:RUDDER-X - [0:0]\n-A RUDDER-X -j ACCEPT\nCOMMIT\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
