package hosts

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"rudder/dns/dnstest"
	"rudder/dns/plugin"
)

const hostsFile = `# static entries
127.0.0.1   localhost
::1         localhost ip6-localhost
10.0.0.5    db.lan DB  # alias in upper case
10.0.0.6    db.lan
2001:db8::5 db.lan
not-an-ip   broken.lan
10.0.0.7
`

// nextMarker answers nothing and tells the test the query fell through.
var nextMarker = plugin.HandlerFunc{N: "next", F: func(context.Context, dns.ResponseWriter, *dns.Msg) (int, error) {
	return dns.RcodeRefused, nil
}}

func writeFile(t *testing.T, dir, text string) string {
	t.Helper()
	p := filepath.Join(dir, "hosts")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func serve(t *testing.T, h plugin.Handler, name string, qtype uint16) (*dns.Msg, int) {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	w := dnstest.NewRecorder(nil)
	rcode, err := h.ServeDNS(context.Background(), w, q)
	if err != nil {
		t.Fatalf("ServeDNS %s: %v", name, err)
	}
	m, _ := w.Reply()
	return m, rcode
}

func TestServe(t *testing.T) {
	h, err := New(Config{
		Path:    writeFile(t, t.TempDir(), hostsFile),
		Entries: []string{"10.96.0.1 api.internal", "fd00::1 api.internal"},
		TTL:     300 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.Plugin()(nextMarker)
	tests := []struct {
		name     string
		qtype    uint16
		want     []string // answer records as text; nil with fallthrough false means NODATA
		fallthru bool
	}{
		{"localhost.", dns.TypeA, []string{"localhost.\t300\tIN\tA\t127.0.0.1"}, false},
		{"localhost.", dns.TypeAAAA, []string{"localhost.\t300\tIN\tAAAA\t::1"}, false},
		{"DB.Lan.", dns.TypeA, []string{"DB.Lan.\t300\tIN\tA\t10.0.0.5", "DB.Lan.\t300\tIN\tA\t10.0.0.6"}, false},
		{"db.lan.", dns.TypeAAAA, []string{"db.lan.\t300\tIN\tAAAA\t2001:db8::5"}, false},
		{"db.", dns.TypeA, []string{"db.\t300\tIN\tA\t10.0.0.5"}, false},
		{"api.internal.", dns.TypeA, []string{"api.internal.\t300\tIN\tA\t10.96.0.1"}, false},
		{"db.lan.", dns.TypeMX, nil, false},
		{"ip6-localhost.", dns.TypeA, nil, false},
		{"5.0.0.10.in-addr.arpa.", dns.TypePTR, []string{"5.0.0.10.in-addr.arpa.\t300\tIN\tPTR\tdb.lan.", "5.0.0.10.in-addr.arpa.\t300\tIN\tPTR\tDB."}, false},
		{"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.", dns.TypePTR, []string{"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.\t300\tIN\tPTR\tapi.internal."}, false},
		{"other.lan.", dns.TypeA, nil, true},
		{"broken.lan.", dns.TypeA, nil, true},
		{"9.9.9.9.in-addr.arpa.", dns.TypePTR, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+dns.TypeToString[tt.qtype], func(t *testing.T) {
			m, rcode := serve(t, h, tt.name, tt.qtype)
			if tt.fallthru {
				if m != nil || rcode != dns.RcodeRefused {
					t.Fatalf("want fallthrough to next, got rcode %d reply %v", rcode, m)
				}
				return
			}
			if m == nil || rcode != dns.RcodeSuccess || m.Rcode != dns.RcodeSuccess || !m.Authoritative {
				t.Fatalf("rcode %d reply %v", rcode, m)
			}
			if m.Question[0].Name != tt.name {
				t.Fatalf("question %q, want %q", m.Question[0].Name, tt.name)
			}
			var got []string
			for _, rr := range m.Answer {
				got = append(got, rr.String())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("answers\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	for name, cfg := range map[string]Config{
		"bad inline address": {Entries: []string{"10.0.0.300 x"}},
		"inline name only":   {Entries: []string{"10.0.0.1"}},
		"bad inline name":    {Entries: []string{"10.0.0.1 a..b"}},
		"missing file":       {Path: filepath.Join(t.TempDir(), "nope")},
		"short ttl":          {TTL: time.Millisecond},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}

func TestReload(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "10.0.0.1 a.lan\n")
	h, err := New(Config{Path: p, Reload: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	h.Plugin()(nextMarker)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- h.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	if m, _ := serve(t, h, "a.lan.", dns.TypeA); m == nil || len(m.Answer) != 1 {
		t.Fatalf("before reload: %v", m)
	}
	writeFile(t, dir, "10.0.0.2 b.lan\n")
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(p, later, later); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		m, _ := serve(t, h, "b.lan.", dns.TypeA)
		if m != nil && len(m.Answer) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("file change not picked up")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if m, rcode := serve(t, h, "a.lan.", dns.TypeA); m != nil || rcode != dns.RcodeRefused {
		t.Fatalf("removed name still answered: %v", m)
	}
	// A file that disappears keeps the last entries.
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond)
	if m, _ := serve(t, h, "b.lan.", dns.TypeA); m == nil || len(m.Answer) != 1 {
		t.Fatalf("after removal: %v", m)
	}
}

func BenchmarkServe(b *testing.B) {
	h, err := New(Config{Entries: []string{"10.0.0.1 a.lan"}})
	if err != nil {
		b.Fatal(err)
	}
	q := new(dns.Msg)
	q.SetQuestion("a.lan.", dns.TypeA)
	w := &dnstest.Discard{}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.ServeDNS(context.Background(), w, q); err != nil {
			b.Fatal(err)
		}
	}
}
