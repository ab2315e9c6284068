package dnsbench

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Mismatch is a query that rudder and CoreDNS answer differently.
type Mismatch struct {
	Query   string `json:"query"`
	Rudder  string `json:"rudder"`
	CoreDNS string `json:"coredns"`
}

// Comparison is how many distinct queries of the mix both servers were
// asked and where their answers (rcode and answer records, TTLs aside)
// differ: a check that the two measure the same work.
type Comparison struct {
	Checked    int        `json:"checked"`
	Mismatches []Mismatch `json:"mismatches"`
	Differing  int        `json:"differing"`
}

// compareAnswers asks both servers up to limit distinct queries of qs,
// one at a time, and keeps the first 10 mismatches.
func compareAnswers(ctx context.Context, rudderPort, corednsPort int, qs []Query, limit int) Comparison {
	var c Comparison
	seen := map[Query]bool{}
	for _, q := range qs {
		if c.Checked >= limit || ctx.Err() != nil {
			break
		}
		q.Kind = ""
		if seen[q] {
			continue
		}
		seen[q] = true
		c.Checked++
		a, b := answerKey(rudderPort, q), answerKey(corednsPort, q)
		if a == b {
			continue
		}
		c.Differing++
		if len(c.Mismatches) < 10 {
			c.Mismatches = append(c.Mismatches, Mismatch{Query: q.Name + " " + q.Type, Rudder: a, CoreDNS: b})
		}
	}
	return c
}

// answerKey is the reply to q as "RCODE; rr; rr" with TTLs zeroed and
// records sorted, so that answer order and cache ageing do not count.
func answerKey(port int, q Query) string {
	m := new(dns.Msg)
	m.SetQuestion(q.Name, dns.StringToType[q.Type])
	cl := &dns.Client{Timeout: 2 * time.Second}
	r, _, err := cl.Exchange(m, "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return "error: " + err.Error()
	}
	return replyKey(r)
}

func replyKey(r *dns.Msg) string {
	rrs := make([]string, 0, len(r.Answer))
	for _, rr := range r.Answer {
		rr = dns.Copy(rr)
		rr.Header().Ttl = 0
		rrs = append(rrs, strings.ToLower(rr.String()))
	}
	slices.Sort(rrs)
	return dns.RcodeToString[r.Rcode] + "; " + strings.Join(rrs, "; ")
}
