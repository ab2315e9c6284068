package router

import (
	"fmt"
	"sort"
	"strings"

	"rudder/ingress/route"
)

// Dump lists hosts → paths → backends → endpoints, then the TLS hosts,
// in a stable order: for tests and a debug endpoint.
func (t *Table) Dump() string {
	var sb strings.Builder
	for _, h := range sortedHostKeys(t.exact) {
		dumpHost(&sb, h, t.exact[h])
	}
	for _, h := range sortedHostKeys(t.wild) {
		dumpHost(&sb, "*."+h, t.wild[h])
	}
	dumpHost(&sb, "*", t.any)
	for _, h := range sortedCertKeys(t.certExact) {
		fmt.Fprintf(&sb, "tls %s %s\n", h, t.certExact[h].secret)
	}
	for _, h := range sortedCertKeys(t.certWild) {
		fmt.Fprintf(&sb, "tls *.%s %s\n", h, t.certWild[h].secret)
	}
	if t.certDef.cert != nil {
		fmt.Fprintf(&sb, "tls default %s\n", t.certDef.secret)
	}
	return sb.String()
}

func dumpHost(sb *strings.Builder, name string, h *hostRules) {
	if len(h.exact) == 0 && len(h.ordered) == 0 && h.def == nil {
		return
	}
	fmt.Fprintf(sb, "host %s\n", name)
	paths := make([]string, 0, len(h.exact))
	for p := range h.exact {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		dumpRoute(sb, h.exact[p])
	}
	for _, m := range h.ordered {
		dumpRoute(sb, m.route)
	}
	if h.def != nil {
		dumpRoute(sb, h.def)
	}
}

func dumpRoute(sb *strings.Builder, r *route.Route) {
	from := "global"
	if r.Name != "" {
		from = r.Namespace + "/" + r.Name
	}
	fmt.Fprintf(sb, "  %s", r.PathType)
	if r.Path != "" {
		fmt.Fprintf(sb, " %s", r.Path)
	}
	fmt.Fprintf(sb, " -> %s (%s)", dumpBackend(r.Backend), from)
	if r.Policy != nil && r.Policy.SSLRedirect {
		sb.WriteString(" ssl-redirect")
	}
	sb.WriteString("\n")
}

func dumpBackend(b *route.Backend) string {
	switch {
	case b == nil:
		return "none"
	case b.ExternalName != "":
		return fmt.Sprintf("%s external %s:%d", b.Key, b.ExternalName, b.ExternalPort)
	}
	eps := make([]string, len(b.Endpoints))
	for i, ep := range b.Endpoints {
		eps[i] = ep.String()
	}
	return fmt.Sprintf("%s [%s]", b.Key, strings.Join(eps, " "))
}

func sortedHostKeys(m map[string]*hostRules) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedCertKeys(m map[string]certEntry) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
