package report

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/REPORT.golden.md")

func fixture(t *testing.T) *Results {
	t.Helper()
	r, err := ReadJSON(filepath.Join("testdata", "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestMarkdownGolden(t *testing.T) {
	got := Markdown(fixture(t))
	golden := filepath.Join("testdata", "REPORT.golden.md")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("REPORT.md differs from %s (run with -update if the change is intended):\n%s", golden, got)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	r := fixture(t)
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	if err := WriteJSON(a, r); err != nil {
		t.Fatal(err)
	}
	back, err := ReadJSON(a)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r, back) {
		t.Errorf("round trip changed the results:\n%+v\n%+v", r, back)
	}
	if err := WriteJSON(b, back); err != nil {
		t.Fatal(err)
	}
	ab, _ := os.ReadFile(a)
	bb, _ := os.ReadFile(b)
	if !bytes.Equal(ab, bb) {
		t.Error("writing the same results twice gave different bytes")
	}
	if !bytes.HasSuffix(ab, []byte("}\n")) || !bytes.Contains(ab, []byte("\n  \"command\"")) {
		t.Errorf("output is not indented JSON ending in a newline:\n%.200s", ab)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestJSONErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct{ name, path string }{
		{"missing", filepath.Join(dir, "nope.json")},
		{"not json", write("bad.json", "runs: 5")},
		{"unknown field", write("unknown.json", `{"runz": 5}`)},
		{"wrong type", write("type.json", `{"runs": "five"}`)},
	} {
		if _, err := ReadJSON(tc.path); err == nil {
			t.Errorf("%s: ReadJSON gave no error", tc.name)
		}
	}
	if err := WriteJSON(filepath.Join(dir, "nil.json"), nil); err == nil {
		t.Error("WriteJSON(nil) gave no error")
	}
	if err := WriteJSON(filepath.Join(dir, "no", "such", "dir.json"), &Results{}); err == nil {
		t.Error("WriteJSON into a missing directory gave no error")
	}
}

func TestAims(t *testing.T) {
	path := func(id, versus string, gbps ...float64) Path {
		return Path{ID: id, Versus: versus, Stream: gbps}
	}
	scale := func(be string, n int, crr ...float64) Scale {
		return Scale{Backend: be, Services: n, CRRP50: crr}
	}
	verdicts := func(r *Results) map[string]string {
		m := map[string]string{}
		for _, a := range Aims(r) {
			m[strings.Fields(a.What)[0]+" "+strings.Fields(a.What)[1]] = a.Verdict()
		}
		return m
	}
	for _, tc := range []struct {
		name string
		r    *Results
		want map[string]string
	}{{
		name: "nothing measured",
		r:    &Results{},
		want: map[string]string{
			"pod↔pod same": "not measured", "pod↔pod over": "not measured",
			"ClusterIP (nftables)": "not measured", "ClusterIP (iptables)": "not measured",
			"nftables CRR": "not measured",
		},
	}, {
		name: "met exactly and above",
		r: &Results{Paths: []Path{
			path("raw-veth", "", 10), path("pod-same-node", "", 9.3),
			path("clusterip-nftables", "pod-same-node", 9.3),
		}, Scaling: []Scale{scale("nftables", 10, 100), scale("nftables", 10000, 110)}},
		want: map[string]string{
			"pod↔pod same": "met", "ClusterIP (nftables)": "met", "nftables CRR": "met",
			"ClusterIP (iptables)": "not measured",
		},
	}, {
		name: "missed by",
		r: &Results{Paths: []Path{
			path("raw-veth", "", 10), path("pod-same-node", "", 8.37),
			path("clusterip-iptables", "pod-same-node", 4.05945),
		}, Scaling: []Scale{scale("nftables", 10000, 165), scale("nftables", 10, 100)}},
		want: map[string]string{
			"pod↔pod same": "missed by 10.0%", "ClusterIP (iptables)": "missed by 50.0%",
			"nftables CRR": "missed by 50.0%",
		},
	}, {
		name: "no raw veth, no versus, one service count",
		r: &Results{Paths: []Path{
			path("pod-same-node", "", 9), path("clusterip-nftables", "", 9),
			path("clusterip-iptables", "pod-gone", 9),
		}, Scaling: []Scale{scale("nftables", 10, 100), scale("nftables", 10000)}},
		want: map[string]string{
			"pod↔pod same": "not measured", "ClusterIP (nftables)": "not measured",
			"ClusterIP (iptables)": "not measured", "nftables CRR": "not measured",
		},
	}, {
		name: "raw veth with no samples",
		r:    &Results{Paths: []Path{path("raw-veth", ""), path("pod-same-node", "", 9)}},
		want: map[string]string{"pod↔pod same": "not measured"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got := verdicts(tc.r)
			for k, want := range tc.want {
				if got[k] != want {
					t.Errorf("%s: got %q, want %q", k, got[k], want)
				}
			}
		})
	}
	if n := len(Aims(&Results{})); n != 6 {
		t.Errorf("Aims lists %d aims, want all 6 always", n)
	}
}

func TestFormat(t *testing.T) {
	ms := func(sec float64) string { s := Samples{sec}; return spread(s, 1000, msDecimals(s)) }
	for _, tc := range []struct {
		got, want string
	}{
		{spread(nil, 1, 2), "—"},
		{spread(Samples{14.456}, 1, 2), "14.46"},
		{spread(Samples{3, 1, 2}, 1, 2), "2.00 (1.00–3.00)"},
		{spread(Samples{0.004, 0.0041}, 1000, 1), "4.0 (4.0–4.1)"},
		{median(Samples{1234.4, 1234.6, 99999}, 1, 0), "1,235"},
		{num(10000, 0), "10,000"},
		{num(-1234567, 0), "-1,234,567"},
		{num(999, 0), "999"},
		{ratioCell(Samples{1}, Samples{0}), "—"},
		{ratioCell(Samples{}, Samples{1}), "—"},
		{ratioCell(Samples{3}, Samples{4}), "0.75"},
		{cell("a | b\n c"), `a \| b c`},
		{cell("  "), "—"},
		{ms(0.182), "182"},
		{ms(0.0041), "4.1"},
		{ms(0.00042), "0.42"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestMarkdownSparse(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    *Results
		want []string
	}{
		{"nil", nil, []string{"No results"}},
		{"empty", &Results{}, []string{"undated", "No paths were measured", "Not measured.", "not measured", "Nothing was skipped"}},
		{"empty samples", &Results{
			Started: time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC),
			Paths:   []Path{{ID: "raw-veth", Group: "baseline"}, {ID: "x", Name: "odd | path", Group: "ingress", Versus: "gone"}},
			Scaling: []Scale{{Backend: "ipvs", Services: 10}},
			Skipped: []Skip{{Name: "eBPF", Reason: ""}},
		}, []string{"2026-11-26", "Raw veth was not measured", "| raw-veth | — |", "odd \\| path", "**ingress**", "gone not measured", "| ipvs | 10 | — | — | — |", "| eBPF | — |"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			md := Markdown(tc.r)
			for _, w := range tc.want {
				if !strings.Contains(md, w) {
					t.Errorf("report lacks %q:\n%s", w, md)
				}
			}
			if strings.Contains(md, ".svg") {
				t.Errorf("report embeds a chart although there is no data for one:\n%s", md)
			}
		})
	}
}

func TestCharts(t *testing.T) {
	r := fixture(t)
	dir := t.TempDir()
	files, err := Charts(dir, r)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		ThroughputChart: {"raw veth pair", "pod↔pod over VXLAN", "pod → ClusterIP (nftables) → pod", "raw veth limit 15.10 Gbit/s"},
		LatencyChart:    {"loopback", "node → NodePort (nftables) → pod", "p99"},
		ScalingChart:    {"nftables", "iptables", "services"},
	}
	if len(files) != len(want) {
		t.Fatalf("Charts wrote %v, want %d files", files, len(want))
	}
	md := Markdown(r)
	for _, f := range files {
		name := filepath.Base(f)
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := validXML(b); err != nil {
			t.Errorf("%s is not valid XML: %v", name, err)
		}
		for _, s := range want[name] {
			if !bytes.Contains(b, []byte(s)) {
				t.Errorf("%s lacks %q", name, s)
			}
		}
		if !strings.Contains(md, "]("+name+")") {
			t.Errorf("REPORT.md does not embed %s", name)
		}
	}
	// Deterministic: the same results give the same bytes.
	again := t.TempDir()
	if _, err := Charts(again, r); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		a, _ := os.ReadFile(f)
		b, _ := os.ReadFile(filepath.Join(again, filepath.Base(f)))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two renderings", filepath.Base(f))
		}
	}
}

func TestChartsSparse(t *testing.T) {
	for _, tc := range []struct {
		name  string
		r     *Results
		files int
	}{
		{"empty", &Results{}, 0},
		{"empty samples", &Results{Paths: []Path{{ID: "raw-veth"}}, Scaling: []Scale{{Backend: "nftables", Services: 10}}}, 0},
		{"one path, no raw veth", &Results{Paths: []Path{{ID: "p", Stream: Samples{1}, CRR: Latency{P50: Samples{100}}}}}, 2},
		{"one service count of 1", &Results{Scaling: []Scale{{Backend: "nftables", Services: 1, CRRP50: Samples{100, 120}}}}, 1},
		{"non-positive counts ignored", &Results{Scaling: []Scale{{Backend: "nftables", Services: 0, CRRP50: Samples{1}}, {Backend: "nftables", Services: 5, CRRP50: Samples{1}}}}, 1},
		{"zero throughput", &Results{Paths: []Path{{ID: "raw-veth", Stream: Samples{0, 0}}}}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files, err := Charts(t.TempDir(), tc.r)
			if err != nil {
				t.Fatal(err)
			}
			if len(files) != tc.files {
				t.Errorf("wrote %v, want %d files", files, tc.files)
			}
			for _, f := range files {
				b, _ := os.ReadFile(f)
				if err := validXML(b); err != nil {
					t.Errorf("%s: %v", f, err)
				}
			}
		})
	}
	if _, err := Charts(t.TempDir(), nil); err == nil {
		t.Error("Charts(nil) gave no error")
	}
	if _, err := Charts(filepath.Join(t.TempDir(), "missing"), fixture(t)); err == nil {
		t.Error("Charts into a missing directory gave no error")
	}
}

// validXML decodes every token of b and wants an <svg> root.
func validXML(b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	root := ""
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		return errors.New("root element is " + root + ", not svg")
	}
	return nil
}
