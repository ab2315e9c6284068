// Package kubernetes answers the cluster zone: the Kubernetes DNS-Based
// Service Discovery specification (schema 1.1.0) over the shared service
// view. Build turns a snapshot into an immutable Zone (pure, no I/O);
// the Handler swaps a freshly built Zone in on every change and answers
// queries from it with a map lookup or two.
package kubernetes

import (
	"net"
	"strings"

	"github.com/miekg/dns"
)

// SchemaVersion is the specification version served at dns-version.<zone>.
const SchemaVersion = "1.1.0"

// ZoneConfig configures Build.
type ZoneConfig struct {
	// Domain is the cluster domain, e.g. "cluster.local." (default
	// "cluster.local."; case and the final dot do not matter).
	Domain string
	// TTL of every record and of negative answers (default 5).
	TTL uint32
	// Serial is the SOA serial (the Handler sets it to the build time).
	Serial uint32
	// NSIPs are the addresses of ns.dns.<zone>, the name the apex NS
	// record names. Empty: the cluster IPs of kube-system/kube-dns.
	NSIPs []net.IP
}

func (c ZoneConfig) withDefaults() ZoneConfig {
	if c.Domain == "" {
		c.Domain = "cluster.local."
	}
	c.Domain = dns.Fqdn(strings.ToLower(c.Domain))
	if c.TTL == 0 {
		c.TTL = 5
	}
	return c
}

// Result is the answer to one question. Fallthrough means the name is not
// this zone's: the next handler answers it. An Rcode for which
// plugin.ClientWrite is false (REFUSED for a zone transfer) means no reply
// is to be written.
type Result struct {
	Rcode             int
	Answer, Ns, Extra []dns.RR
	Authoritative     bool
	Fallthrough       bool
}

// Zone is the cluster zone at one moment. It is immutable: build a new one
// for every change and swap it in. Records are stored once with lowercase
// owner names; Lookup hands out copies owned by the name as asked.
type Zone struct {
	domain  string // lowercase, fully qualified
	podSfx  string // "pod." + domain
	ttl     uint32
	soa     dns.SOA // owner domain
	revSOA  [2]dns.SOA
	ns      []dns.NS
	nodes   map[string]*node
	records int
}

// node is everything at one owner name. A node without records is an
// empty non-terminal: it exists (NODATA) but holds nothing; all of them
// share one value.
type node struct {
	a    []dns.A
	aaaa []dns.AAAA
	srv  []dns.SRV
	ptr  []dns.PTR
	x    *rareRecords
}

// rareRecords are the types few names have.
type rareRecords struct {
	txt   []dns.TXT
	cname []dns.CNAME
}

// emptyNonTerminal is the node of every name that only has names below it.
// It is never written: the builder replaces it when such a name gets
// records of its own.
var emptyNonTerminal = &node{}

func (n *node) cname() []dns.CNAME {
	if n.x == nil {
		return nil
	}
	return n.x.cname
}

func (n *node) txt() []dns.TXT {
	if n.x == nil {
		return nil
	}
	return n.x.txt
}

// Domain is the zone's apex, lowercase and fully qualified.
func (z *Zone) Domain() string { return z.domain }

// Records is the number of resource records the zone holds (pod records,
// synthesized per query, not counted).
func (z *Zone) Records() int { return z.records }

// Serial is the SOA serial.
func (z *Zone) Serial() uint32 { return z.soa.Serial }

func (z *Zone) inZone(lname string) bool { return isSubdomain(lname, z.domain) }

// isSubdomain tells whether name is zone or below it; both lowercase and
// fully qualified.
func isSubdomain(name, zone string) bool {
	if zone == "." {
		return true
	}
	if !strings.HasSuffix(name, zone) {
		return false
	}
	i := len(name) - len(zone)
	return i == 0 || name[i-1] == '.'
}

// reverseZone returns the index of the reverse zone name is in (0 for
// in-addr.arpa., 1 for ip6.arpa.), or -1.
func reverseZone(lname string) int {
	switch {
	case isSubdomain(lname, "in-addr.arpa."):
		return 0
	case isSubdomain(lname, "ip6.arpa."):
		return 1
	}
	return -1
}
