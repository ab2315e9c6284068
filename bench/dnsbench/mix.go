package dnsbench

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// Query is one line of the dnsperf input: a name and a type.
type Query struct {
	Name, Type string
	Kind       string // which part of the mix it belongs to
}

// Kinds of queries in the mix, with their share in percent. The shares
// model pods that look up Services by FQDN and by short name through a
// ClusterFirst search path (glibc sends A and AAAA), plus outside names.
var mixShares = []struct {
	Kind  string
	Share int
}{
	{"service A", 30},
	{"service AAAA (NODATA)", 10},
	{"service SRV", 5},
	{"service PTR", 5},
	{"headless A", 5},
	{"search miss ns.svc (NXDOMAIN)", 15},
	{"search miss svc (NXDOMAIN)", 10},
	{"search miss cluster.local (NXDOMAIN)", 5},
	{"forwarded A", 15},
}

// BuildMix is n queries over svcs for the cluster domain zone, drawn with
// the fixed seed so that every server and every run gets the same file.
func BuildMix(svcs []Service, zone string, n int, seed uint64) ([]Query, error) {
	var plain, headless []Service
	for _, s := range svcs {
		if s.ClusterIP == "None" {
			headless = append(headless, s)
		} else if s.ClusterIP != "" {
			plain = append(plain, s)
		}
	}
	if len(plain) == 0 || len(headless) == 0 {
		return nil, fmt.Errorf("build query mix: want ClusterIP and headless services, have %d and %d", len(plain), len(headless))
	}
	zone = dns.Fqdn(strings.ToLower(zone))
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]Query, 0, n)
	for len(out) < n {
		k := pickKind(r.IntN(100))
		s := plain[r.IntN(len(plain))]
		fqdn := s.Name + "." + s.Namespace + ".svc." + zone
		outside := outsideName(r)
		q := Query{Kind: k, Type: "A"}
		switch k {
		case "service A":
			q.Name = fqdn
		case "service AAAA (NODATA)":
			q.Name, q.Type = fqdn, "AAAA"
		case "service SRV":
			q.Name, q.Type = "_http._tcp."+fqdn, "SRV"
		case "service PTR":
			rev, err := dns.ReverseAddr(s.ClusterIP)
			if err != nil {
				return nil, fmt.Errorf("build query mix: cluster IP %q of %s/%s: %w", s.ClusterIP, s.Namespace, s.Name, err)
			}
			q.Name, q.Type = rev, "PTR"
		case "headless A":
			h := headless[r.IntN(len(headless))]
			q.Name = h.Name + "." + h.Namespace + ".svc." + zone
		case "search miss ns.svc (NXDOMAIN)":
			q.Name = outside + s.Namespace + ".svc." + zone
		case "search miss svc (NXDOMAIN)":
			q.Name = outside + "svc." + zone
		case "search miss cluster.local (NXDOMAIN)":
			q.Name = outside + zone
		case "forwarded A":
			q.Name = outside
		}
		out = append(out, q)
	}
	return out, nil
}

func pickKind(p int) string {
	for _, m := range mixShares {
		if p < m.Share {
			return m.Kind
		}
		p -= m.Share
	}
	return mixShares[len(mixShares)-1].Kind
}

// outsideName is a name the stub upstream answers: one of 200 hosts.
func outsideName(r *rand.Rand) string {
	i := r.IntN(200)
	if i%2 == 0 {
		return "www" + strconv.Itoa(i) + ".example.com."
	}
	return "api" + strconv.Itoa(i) + ".example.org."
}

// WriteMix writes qs in dnsperf's input format, one "name type" a line.
func WriteMix(w io.Writer, qs []Query) error {
	var b strings.Builder
	for _, q := range qs {
		b.WriteString(q.Name)
		b.WriteByte(' ')
		b.WriteString(q.Type)
		b.WriteByte('\n')
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write query mix: %w", err)
	}
	return nil
}

// MixSummary counts the queries of each kind, in mixShares order.
func MixSummary(qs []Query) []KindCount {
	n := map[string]int{}
	for _, q := range qs {
		n[q.Kind]++
	}
	out := make([]KindCount, 0, len(mixShares))
	for _, m := range mixShares {
		out = append(out, KindCount{Kind: m.Kind, Count: n[m.Kind]})
	}
	return out
}

// KindCount is how many queries of the mix are of one kind.
type KindCount struct {
	Kind  string `json:"kind"`
	Count int    `json:"count"`
}
