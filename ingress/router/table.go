package router

import (
	"crypto/tls"
	"regexp"
	"sort"
	"strings"

	"rudder/ingress/route"
)

// Table is one compiled configuration; it implements route.Table. It is
// immutable once Build returns and safe for concurrent use.
type Table struct {
	exact map[string]*hostRules // by host
	wild  map[string]*hostRules // by the suffix after "*."
	any   *hostRules            // host-less rules and the catch-all default

	certExact map[string]certEntry
	certWild  map[string]certEntry
	certDef   certEntry // Config.DefaultCertificate's; cert nil: none
}

var _ route.Table = (*Table)(nil)

// hostRules are the rules of one host, in match order.
type hostRules struct {
	exact   map[string]*route.Route // Exact paths
	ordered []matcher               // Prefix and Regex, best first
	def     *route.Route            // the host's default backend
}

// matcher is one Prefix or Regex rule.
type matcher struct {
	prefix string         // Prefix: the path without trailing slashes
	re     *regexp.Regexp // Regex
	route  *route.Route
	order  int // the Ingress's age rank, then rule order: tie-breaker
}

// key is the path that identifies the rule r among a host's: for
// Prefix, without trailing slashes (/foo and /foo/ are one rule).
func (m matcher) key(r *route.Route) string {
	switch {
	case r.PathType != route.Prefix:
		return r.Path
	case m.prefix == "":
		return "/"
	}
	return m.prefix
}

func newTable() *Table {
	return &Table{
		exact:     map[string]*hostRules{},
		wild:      map[string]*hostRules{},
		any:       newHostRules(),
		certExact: map[string]certEntry{},
		certWild:  map[string]certEntry{},
	}
}

func newHostRules() *hostRules {
	return &hostRules{exact: map[string]*route.Route{}}
}

// rules returns the set for a rule host ("", "foo.com", "*.foo.com"),
// creating it.
func (t *Table) rules(host string) *hostRules {
	m, key := t.exact, host
	switch {
	case host == "":
		return t.any
	case strings.HasPrefix(host, "*."):
		m, key = t.wild, host[2:]
	}
	h := m[key]
	if h == nil {
		h = newHostRules()
		m[key] = h
	}
	return h
}

// addCert sets a TLS host's certificate unless an older Ingress did; it
// returns the entry in place.
func (t *Table) addCert(host string, e certEntry) certEntry {
	m, key := t.certExact, host
	if strings.HasPrefix(host, "*.") {
		m, key = t.certWild, host[2:]
	}
	if old, taken := m[key]; taken || key == "" {
		return old
	}
	m[key] = e
	return e
}

// hasCert says whether a rule host ("*.foo.com" included) is served
// with a certificate of some Ingress.
func (t *Table) hasCert(host string) bool {
	if host == "" {
		return false
	}
	if w, ok := strings.CutPrefix(host, "*."); ok {
		_, found := t.certWild[w]
		return found
	}
	return t.Certificate(host) != nil
}

// finish sorts every host's matchers into match order.
func (t *Table) finish() {
	t.any.sort()
	for _, h := range t.exact {
		h.sort()
	}
	for _, h := range t.wild {
		h.sort()
	}
}

// sort orders matchers: longer path first (a Prefix's without trailing
// slashes), Prefix before Regex, older Ingress first.
func (h *hostRules) sort() {
	sort.SliceStable(h.ordered, func(i, j int) bool {
		a, b := h.ordered[i], h.ordered[j]
		if la, lb := len(a.key(a.route)), len(b.key(b.route)); la != lb {
			return la > lb
		}
		if (a.re == nil) != (b.re == nil) {
			return a.re == nil
		}
		return a.order < b.order
	})
}

// Match implements route.Table. It does not allocate for a host given
// in lower case without port.
func (t *Table) Match(host, path string) *route.Route {
	host = normalizeHost(host)
	exact := t.exact[host]
	var wild *hostRules
	if i := strings.IndexByte(host, '.'); i > 0 {
		wild = t.wild[host[i+1:]]
	}
	for _, h := range [...]*hostRules{exact, wild, t.any} {
		if r := h.match(path); r != nil {
			return r
		}
	}
	for _, h := range [...]*hostRules{exact, wild, t.any} {
		if h != nil && h.def != nil {
			return h.def
		}
	}
	return nil
}

// match is the best rule of h for path, or nil.
func (h *hostRules) match(path string) *route.Route {
	if h == nil {
		return nil
	}
	if r := h.exact[path]; r != nil {
		return r
	}
	for i := range h.ordered {
		m := &h.ordered[i]
		if m.re != nil {
			if m.re.MatchString(path) {
				return m.route
			}
		} else if prefixMatch(m.prefix, path) {
			return m.route
		}
	}
	return nil
}

// prefixMatch is element-wise prefix matching; prefix has no trailing
// slash ("" for "/").
func prefixMatch(prefix, path string) bool {
	if !strings.HasPrefix(path, prefix) {
		return false
	}
	return len(path) == len(prefix) || path[len(prefix)] == '/'
}

// Certificate implements route.Table: the exact host's certificate,
// else the wildcard's, else nil.
func (t *Table) Certificate(serverName string) *tls.Certificate {
	host := normalizeHost(serverName)
	if e, ok := t.certExact[host]; ok {
		return e.cert
	}
	if i := strings.IndexByte(host, '.'); i > 0 {
		if e, ok := t.certWild[host[i+1:]]; ok {
			return e.cert
		}
	}
	return nil
}

// DefaultCertificate implements route.Table: the certificate of
// Config.DefaultCertificate, or nil.
func (t *Table) DefaultCertificate() *tls.Certificate { return t.certDef.cert }

// normalizeHost lower-cases a host and strips a port, IPv6 brackets and a
// trailing dot; it allocates only for upper-case input.
func normalizeHost(h string) string {
	if strings.HasPrefix(h, "[") {
		if j := strings.IndexByte(h, ']'); j > 0 {
			h = h[1:j]
		}
	} else if i := strings.IndexByte(h, ':'); i >= 0 && strings.LastIndexByte(h, ':') == i {
		h = h[:i]
	}
	h = strings.TrimSuffix(h, ".")
	return strings.ToLower(h)
}
