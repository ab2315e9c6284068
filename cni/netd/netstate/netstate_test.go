package netstate

import (
	"net/netip"
	"testing"
)

func TestParseMAC(t *testing.T) {
	m, err := ParseMAC("0E:72:c6:12:00:0b")
	if err != nil || m.String() != "0e:72:c6:12:00:0b" || m.IsZero() {
		t.Errorf("ParseMAC = %v, %v", m, err)
	}
	for _, bad := range []string{"", "nope", "00:00:00:00:00:00:00:01"} {
		if _, err := ParseMAC(bad); err == nil {
			t.Errorf("ParseMAC(%q) succeeded", bad)
		}
	}
}

func TestParseBackend(t *testing.T) {
	for _, ok := range []string{"vxlan", "host-gw"} {
		if b, err := ParseBackend(ok); err != nil || string(b) != ok {
			t.Errorf("ParseBackend(%q) = %q, %v", ok, b, err)
		}
	}
	if _, err := ParseBackend("udp"); err == nil {
		t.Error("ParseBackend(udp) succeeded")
	}
}

func TestDumpIsOrderIndependent(t *testing.T) {
	r1 := Route{Dst: netip.MustParsePrefix("10.244.2.0/24"), Gw: netip.MustParseAddr("198.18.0.12"), Dev: "eth0"}
	r2 := Route{Dst: netip.MustParsePrefix("10.244.3.0/24"), Gw: netip.MustParseAddr("198.18.0.13"), Dev: "eth0"}
	a := State{Routes: []Route{r1, r2}, Sysctls: []Sysctl{{"b", "1"}, {"a", "0"}}}
	b := State{Routes: []Route{r2, r1}, Sysctls: []Sysctl{{"a", "0"}, {"b", "1"}}}
	if a.Dump() != b.Dump() {
		t.Errorf("dumps differ:\n%s\n%s", a.Dump(), b.Dump())
	}
	if (Plan{}).Empty() != true || (Plan{SetRoutes: a.Routes}).Empty() {
		t.Error("Plan.Empty wrong")
	}
	if got := SysctlPath("net.ipv4.ip_forward"); got != "/proc/sys/net/ipv4/ip_forward" {
		t.Errorf("SysctlPath = %s", got)
	}
}
