package lab

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestParseStat(t *testing.T) {
	tail := " 1 1 1 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 100"
	for _, tc := range []struct {
		name, line string
		state      byte
		start      uint64
		wantErr    bool
	}{
		{"plain", "42 (sleep) S" + tail, 'S', 987654, false},
		{"spaces and parens in comm", "42 (a) b) (c) Z" + tail, 'Z', 987654, false},
		{"no comm", "42 sleep S 1 2", 0, 0, true},
		{"short", "42 (sleep) S 1 2 3", 0, 0, true},
		{"bad start", "42 (x) R 1 1 1 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 zz 1000", 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state, start, err := parseStat(tc.line)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && (state != tc.state || start != tc.start) {
				t.Fatalf("got (%c, %d), want (%c, %d)", state, start, tc.state, tc.start)
			}
		})
	}
}

func TestProcAliveSelf(t *testing.T) {
	p, err := newProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if !p.Alive() {
		t.Fatal("this process is not alive")
	}
	if (&Proc{PID: p.PID, StartTime: p.StartTime + 1}).Alive() {
		t.Fatal("a recycled PID (other start time) counts as alive")
	}
	if (*Proc)(nil).Alive() {
		t.Fatal("nil proc is alive")
	}
}

func TestPlanAddresses(t *testing.T) {
	p, err := planAddresses("198.18.0.0/24", 3)
	if err != nil {
		t.Fatal(err)
	}
	if p.Server != netip.MustParseAddr("198.18.0.254") {
		t.Fatalf("server %s", p.Server)
	}
	want := []netip.Addr{netip.MustParseAddr("198.18.0.11"), netip.MustParseAddr("198.18.0.12"), netip.MustParseAddr("198.18.0.13")}
	if !slices.Equal(p.NodeIPs, want) {
		t.Fatalf("nodes %v", p.NodeIPs)
	}
	p, err = planAddresses("10.1.2.77/23", 1)
	if err != nil || p.Server != netip.MustParseAddr("10.1.3.254") || p.NodeIPs[0] != netip.MustParseAddr("10.1.2.11") {
		t.Fatalf("/23: %+v %v", p, err)
	}
	for _, bad := range []struct {
		cidr  string
		nodes int
	}{{"nonsense", 1}, {"fd00::/64", 1}, {"198.18.0.0/24", 0}, {"198.18.0.0/28", 5}, {"198.18.0.0/31", 1}} {
		if _, err := planAddresses(bad.cidr, bad.nodes); err == nil {
			t.Errorf("planAddresses(%q, %d): no error", bad.cidr, bad.nodes)
		}
	}
}

func TestLinkNames(t *testing.T) {
	br, veths, err := linkNames("rdr-abcdef", 2)
	if err != nil || br != "rdr-abcdef-br" || !slices.Equal(veths, []string{"rdr-abcdef-v1", "rdr-abcdef-v2"}) {
		t.Fatalf("got %q %q %v", br, veths, err)
	}
	if _, _, err := linkNames("rdrt-abcdef", 100); err == nil {
		t.Fatal("16-character link name: no error")
	}
}

func TestFirewallWarning(t *testing.T) {
	for _, tc := range []struct {
		name     string
		call     string
		listings []string
		warn     bool
	}{
		{"accept", "1", []string{"-P FORWARD ACCEPT\n"}, false},
		{"drop without br_netfilter calls", "0", []string{"-P FORWARD DROP\n"}, false},
		{"iptables drop", "1", []string{"-P FORWARD ACCEPT\n", "-P FORWARD DROP\n-A FORWARD -j DOCKER\n"}, true},
		{"nft drop", "1", []string{"table inet filter {\n\tchain forward {\n\t\ttype filter hook forward priority filter; policy drop;\n\t}\n}"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := firewallWarning(tc.call, tc.listings); (got != "") != tc.warn {
				t.Fatalf("warning %q, want one: %v", got, tc.warn)
			}
		})
	}
}

func TestDecodeManifests(t *testing.T) {
	objs, err := decodeManifests(strings.NewReader(`---
apiVersion: v1
kind: ConfigMap
metadata: {name: a, namespace: kube-system}
---
# only a comment
---
apiVersion: v1
kind: Namespace
metadata: {name: b}
`))
	if err != nil || len(objs) != 2 || objs[0].GetName() != "a" || objs[1].GetKind() != "Namespace" {
		t.Fatalf("got %v, %v", objs, err)
	}
	if _, err := decodeManifests(strings.NewReader("kind: ConfigMap\n")); err == nil {
		t.Fatal("object without apiVersion and name: no error")
	}
	if _, err := decodeManifests(strings.NewReader("a: [\n")); err == nil {
		t.Fatal("broken YAML: no error")
	}
}

func TestReadManifests(t *testing.T) {
	if objs, err := readManifests(filepath.Join(t.TempDir(), "missing")); err != nil || len(objs) != 0 {
		t.Fatalf("missing dir: %v %v", objs, err)
	}
	if objs, err := readManifests(""); err != nil || len(objs) != 0 {
		t.Fatalf("no dir: %v %v", objs, err)
	}
	dir := t.TempDir()
	for name, body := range map[string]string{
		"20-b.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n",
		"10-a.yml":  "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n",
		"README.md": "not a manifest",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	objs, err := readManifests(dir)
	if err != nil || len(objs) != 2 || objs[0].GetName() != "a" || objs[1].GetName() != "b" {
		t.Fatalf("got %v, %v", objs, err)
	}
}

func TestNotReadyNodes(t *testing.T) {
	node := func(name string, status corev1.ConditionStatus) corev1.Node {
		return corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name},
			Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: status}}}}
	}
	got := notReadyNodes([]string{"node-1", "node-2", "node-3"},
		[]corev1.Node{node("node-1", corev1.ConditionTrue), node("node-2", corev1.ConditionFalse), node("other", corev1.ConditionTrue)})
	if !slices.Equal(got, []string{"node-2", "node-3"}) {
		t.Fatalf("not ready %v", got)
	}
	tainted := node("node-1", corev1.ConditionTrue)
	tainted.Spec.Taints = []corev1.Taint{{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule}}
	if got := notReadyNodes([]string{"node-1"}, []corev1.Node{tainted}); !slices.Equal(got, []string{"node-1"}) {
		t.Fatalf("Ready but still tainted not-ready: %v", got)
	}
}

func TestStateRoundTrip(t *testing.T) {
	dir := t.TempDir()
	if s, err := loadState(dir); s != nil || err != nil {
		t.Fatalf("empty dir: %v %v", s, err)
	}
	st := &State{Prefix: "rdr-abcdef", Dir: dir, Server: &Proc{PID: 7, StartTime: 9}, Nodes: []NodeState{{Name: "node-1"}}}
	if err := st.save(); err != nil {
		t.Fatal(err)
	}
	got, err := loadState(dir)
	if err != nil || got.Prefix != st.Prefix || got.Server.PID != 7 || len(got.Nodes) != 1 {
		t.Fatalf("got %+v, %v", got, err)
	}
	if err := os.WriteFile(filepath.Join(dir, stateFile), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadState(dir); err == nil {
		t.Fatal("corrupt state: no error")
	}
}
