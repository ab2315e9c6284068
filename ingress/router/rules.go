package router

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"rudder/ingress/annotations"
	"rudder/ingress/route"
)

// addRules compiles the rules of ing, the age-th oldest of our Ingresses.
func (b *builder) addRules(age int, ing *networkingv1.Ingress) {
	ann := b.annotations[ing]
	seq := 0
	for _, rule := range ing.Spec.Rules {
		host, ok := b.ruleHost(ing, rule.Host)
		if !ok || rule.HTTP == nil {
			continue
		}
		for _, p := range rule.HTTP.Paths {
			seq++
			r, m, ok := b.compilePath(ing, ann, host, p)
			if !ok || !b.claim(ing, fmt.Sprintf("host %q path %q (%s)", host, m.key(r), r.PathType)) {
				continue
			}
			r.Backend = b.ingressBackend(ing, &p.Backend)
			r.Policy = b.policy(ann, host, affinityPath(r))
			h := b.table.rules(host)
			if r.PathType == route.Exact {
				h.exact[r.Path] = r
				continue
			}
			m.route, m.order = r, age<<20|seq
			h.ordered = append(h.ordered, m)
		}
	}
}

// ruleHost validates and lower-cases a rule's host.
func (b *builder) ruleHost(ing *networkingv1.Ingress, host string) (string, bool) {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	rest := strings.TrimPrefix(h, "*.")
	if strings.ContainsAny(rest, "*:/ ") || strings.HasPrefix(rest, ".") || (h != "" && rest == "") {
		b.warn(ing, ReasonInvalidHost, "host %q is not a DNS name or a *. wildcard; its rules are ignored", host)
		return "", false
	}
	return h, true
}

// compilePath turns one Ingress path into a route (without backend and
// policy) and, for Prefix and Regex, its matcher.
func (b *builder) compilePath(ing *networkingv1.Ingress, ann annotations.Result, host string,
	p networkingv1.HTTPIngressPath) (*route.Route, matcher, bool) {
	r := &route.Route{Namespace: ing.Namespace, Name: ing.Name, Host: host, Path: p.Path}
	pt := networkingv1.PathTypeImplementationSpecific
	if p.PathType != nil {
		pt = *p.PathType
	}
	if r.Path == "" && pt == networkingv1.PathTypeImplementationSpecific {
		r.Path = "/"
	}
	switch {
	case pt == networkingv1.PathTypeImplementationSpecific && ann.UseRegex:
		re, err := regexp.Compile("(?i)^" + r.Path)
		if err != nil {
			b.warn(ing, ReasonInvalidPath, "path %q is not a valid regular expression: %v", r.Path, err)
			return nil, matcher{}, false
		}
		r.PathType, r.Pattern = route.Regex, re
		return r, matcher{re: re}, true
	case pt != networkingv1.PathTypeExact && pt != networkingv1.PathTypePrefix &&
		pt != networkingv1.PathTypeImplementationSpecific:
		b.warn(ing, ReasonInvalidPath, "path %q has unknown pathType %q", r.Path, pt)
		return nil, matcher{}, false
	case !strings.HasPrefix(r.Path, "/"):
		b.warn(ing, ReasonInvalidPath, "path %q does not start with /", r.Path)
		return nil, matcher{}, false
	case pt == networkingv1.PathTypeExact:
		r.PathType = route.Exact
		return r, matcher{}, true
	}
	r.PathType = route.Prefix
	return r, matcher{prefix: strings.TrimRight(r.Path, "/")}, true
}

// claim records that ing owns a conflict key; false (with an event) when
// an older Ingress already does. Duplicates within one Ingress keep the
// first silently.
func (b *builder) claim(ing *networkingv1.Ingress, what string) bool {
	owner := b.owners[what]
	if owner == nil {
		b.owners[what] = ing
		return true
	}
	if owner != ing {
		b.warn(ing, ReasonConflict, "%s is already served by the older ingress %s/%s; this one is ignored",
			what, owner.Namespace, owner.Name)
	}
	return false
}

// addDefaultBackend installs ing's spec.defaultBackend for the hosts of
// its rules ("" when it has no rules or host-less ones).
func (b *builder) addDefaultBackend(ing *networkingv1.Ingress) {
	if ing.Spec.DefaultBackend == nil {
		return
	}
	ann := b.annotations[ing]
	hosts := map[string]bool{}
	if len(ing.Spec.Rules) == 0 {
		hosts[""] = true
	}
	for _, rule := range ing.Spec.Rules {
		if h, ok := b.ruleHost(ing, rule.Host); ok {
			hosts[h] = true
		}
	}
	var backend *route.Backend
	resolved := false
	for _, h := range sortedKeys(hosts) {
		if !b.claim(ing, fmt.Sprintf("default backend of host %q", h)) {
			continue
		}
		if !resolved {
			backend, resolved = b.ingressBackend(ing, ing.Spec.DefaultBackend), true
		}
		b.table.rules(h).def = &route.Route{
			Namespace: ing.Namespace, Name: ing.Name, Host: h, PathType: route.Default,
			Backend: backend, Policy: b.policy(ann, h, "/"),
		}
	}
}

// policy is ann's policy for a rule of host, with SSL redirect decided
// and the affinity cookie path defaulted to cookiePath.
func (b *builder) policy(ann annotations.Result, host, cookiePath string) *route.Policy {
	pol := ann.Policy
	pol.SSLRedirect = (pol.SSLRedirect && b.table.hasCert(host)) || ann.ForceSSLRedirect
	if pol.Affinity != nil {
		a := *pol.Affinity
		if a.Path == "" {
			a.Path = cookiePath
		}
		pol.Affinity = &a
	}
	return &pol
}

// affinityPath is the default cookie path of a rule: its path, or "/"
// for regular expressions.
func affinityPath(r *route.Route) string {
	if r.PathType == route.Regex {
		return "/"
	}
	return r.Path
}

// defaultPolicy is the policy of no annotations.
func defaultPolicy() route.Policy {
	return annotations.Parse(nil).Policy
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
