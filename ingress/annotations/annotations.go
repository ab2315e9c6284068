// Package annotations turns an Ingress's annotations into the route.Policy
// the proxy enforces.
//
// Keys are read under two prefixes: rudder.io/ and, for users migrating
// from ingress-nginx, nginx.ingress.kubernetes.io/; the names after the
// prefix are the same. When both spellings of a key are set, the
// rudder.io/ one wins. Keys under either prefix that this package does not
// implement (including real ingress-nginx ones such as
// configuration-snippet) are reported as Problems, never ignored silently;
// so are the options of a feature left off (cors-* without enable-cors,
// session-cookie-* without affinity).
// An invalid value is reported too and the key falls back to its default,
// except the source allow list, which fails closed (Policy.DenyAll).
// Annotations under other prefixes are ignored.
//
// Defaults are ingress-nginx's: body 1 MiB, connect timeout 5 s, read and
// send timeouts 60 s, protocol HTTP, round-robin balancing, ssl-redirect
// allowed, force-ssl-redirect off.
package annotations

import (
	"sort"
	"strings"
	"time"

	"rudder/ingress/route"
)

// The two accepted prefixes, in order of precedence.
const (
	RudderPrefix = "rudder.io/"
	NginxPrefix  = "nginx.ingress.kubernetes.io/"
)

// Defaults, as in ingress-nginx.
const (
	DefaultBodyLimit       = 1 << 20
	DefaultConnectTimeout  = 5 * time.Second
	DefaultReadTimeout     = 60 * time.Second
	DefaultSendTimeout     = 60 * time.Second
	DefaultCookieName      = "INGRESSCOOKIE"
	DefaultCORSOrigin      = "*"
	DefaultCORSMethods     = "GET, PUT, POST, DELETE, PATCH, OPTIONS"
	DefaultCORSHeaders     = "DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization"
	DefaultCORSMaxAge      = 1728000 * time.Second
	DefaultCORSCredentials = true
)

// Result is what one Ingress's annotations ask for.
type Result struct {
	// Policy is complete except for what depends on the rule: SSLRedirect
	// here means "the annotation allows a redirect" (the router enables
	// it only for hosts with a certificate), and Affinity.Path is empty
	// unless session-cookie-path is set.
	Policy route.Policy
	// ForceSSLRedirect redirects even for hosts without TLS.
	ForceSSLRedirect bool
	// UseRegex makes ImplementationSpecific paths regular expressions;
	// use-regex or rewrite-target set it.
	UseRegex bool
	// Problems are the unknown keys and invalid values, sorted by key.
	Problems []Problem
}

// Problem is one annotation that could not be honoured.
type Problem struct {
	// Key is the annotation's full key as written.
	Key string
	// Message says what is wrong and what is done instead.
	Message string
	// Unknown is set when the key itself is not supported (rather than
	// its value being invalid).
	Unknown bool
}

// Parse reads annotations (nil is fine) into a Result. It never fails:
// every problem is in Result.Problems.
func Parse(annotations map[string]string) Result {
	p := parser{values: map[string]entry{}}
	p.collect(annotations)
	p.res.Policy = route.Policy{
		SSLRedirect:    true,
		BodyLimit:      DefaultBodyLimit,
		ConnectTimeout: DefaultConnectTimeout,
		ReadTimeout:    DefaultReadTimeout,
		SendTimeout:    DefaultSendTimeout,
		Protocol:       route.HTTP,
		Balance:        route.RoundRobin,
	}
	p.parseBasics()
	p.parseAffinity()
	p.parseCORS()
	p.parseAllow()
	sort.Slice(p.res.Problems, func(i, j int) bool {
		a, b := p.res.Problems[i], p.res.Problems[j]
		if a.Key != b.Key {
			return a.Key < b.Key
		}
		return a.Message < b.Message
	})
	return p.res
}

// entry is one recognised key's winning value.
type entry struct {
	key   string // full key, for problems
	value string
}

type parser struct {
	values map[string]entry // by name after the prefix
	res    Result
}

// collect keeps the winning spelling of every known key and reports
// unknown ones.
func (p *parser) collect(annotations map[string]string) {
	for k, v := range annotations {
		name, rudder, ok := splitKey(k)
		if !ok {
			continue
		}
		if !isKnown(name) {
			p.res.Problems = append(p.res.Problems, Problem{Key: k, Unknown: true,
				Message: "unknown annotation (not supported by rudder ingress; ignored)"})
			continue
		}
		if old, dup := p.values[name]; dup && strings.HasPrefix(old.key, RudderPrefix) && !rudder {
			continue
		}
		p.values[name] = entry{key: k, value: v}
	}
}

// splitKey returns the name after one of our prefixes.
func splitKey(k string) (name string, rudder, ok bool) {
	if n, found := strings.CutPrefix(k, RudderPrefix); found {
		return n, true, true
	}
	if n, found := strings.CutPrefix(k, NginxPrefix); found {
		return n, false, true
	}
	return "", false, false
}

func (p *parser) problem(key, msg string) {
	p.res.Problems = append(p.res.Problems, Problem{Key: key, Message: msg})
}

// get is the value of name, if set.
func (p *parser) get(name string) (entry, bool) {
	e, ok := p.values[name]
	return e, ok
}

// invalid reports a bad value that falls back to its default.
func (p *parser) invalid(e entry, err error) {
	p.problem(e.key, "invalid value "+quote(e.value)+": "+err.Error()+"; using the default")
}

func quote(s string) string { return "\"" + s + "\"" }
