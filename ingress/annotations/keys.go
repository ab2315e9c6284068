package annotations

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"rudder/ingress/route"
)

// The key names after the prefix.
const (
	keyRewriteTarget        = "rewrite-target"
	keyUseRegex             = "use-regex"
	keySSLRedirect          = "ssl-redirect"
	keyForceSSLRedirect     = "force-ssl-redirect"
	keyBodySize             = "proxy-body-size"
	keyConnectTimeout       = "proxy-connect-timeout"
	keyReadTimeout          = "proxy-read-timeout"
	keySendTimeout          = "proxy-send-timeout"
	keyAffinity             = "affinity"
	keyCookieName           = "session-cookie-name"
	keyCookieMaxAge         = "session-cookie-max-age"
	keyCookiePath           = "session-cookie-path"
	keyBackendProtocol      = "backend-protocol"
	keyEnableCORS           = "enable-cors"
	keyCORSOrigin           = "cors-allow-origin"
	keyCORSMethods          = "cors-allow-methods"
	keyCORSHeaders          = "cors-allow-headers"
	keyCORSExpose           = "cors-expose-headers"
	keyCORSCredentials      = "cors-allow-credentials"
	keyCORSMaxAge           = "cors-max-age"
	keyLimitRPS             = "limit-rps"
	keyWhitelistSourceRange = "whitelist-source-range"
	keyAllowlistSourceRange = "allowlist-source-range"
	keyLoadBalance          = "load-balance"
)

// isKnown reports whether name (after the prefix) is supported.
func isKnown(name string) bool {
	switch name {
	case keyRewriteTarget, keyUseRegex, keySSLRedirect, keyForceSSLRedirect,
		keyBodySize, keyConnectTimeout, keyReadTimeout, keySendTimeout,
		keyAffinity, keyCookieName, keyCookieMaxAge, keyCookiePath,
		keyBackendProtocol, keyEnableCORS, keyCORSOrigin, keyCORSMethods,
		keyCORSHeaders, keyCORSExpose, keyCORSCredentials, keyCORSMaxAge,
		keyLimitRPS, keyWhitelistSourceRange, keyAllowlistSourceRange,
		keyLoadBalance:
		return true
	}
	return false
}

// boolKey sets *dst from name when it is a valid boolean.
func (p *parser) boolKey(name string, dst *bool) {
	e, ok := p.get(name)
	if !ok {
		return
	}
	b, err := parseBool(e.value)
	if err != nil {
		p.invalid(e, err)
		return
	}
	*dst = b
}

// durationKey sets *dst from name when it is a valid duration.
func (p *parser) durationKey(name string, dst *time.Duration) {
	e, ok := p.get(name)
	if !ok {
		return
	}
	d, err := ParseDuration(e.value)
	if err != nil {
		p.invalid(e, err)
		return
	}
	*dst = d
}

func (p *parser) parseBasics() {
	pol := &p.res.Policy
	if e, ok := p.get(keyRewriteTarget); ok {
		pol.RewriteTarget = e.value
		p.res.UseRegex = e.value != ""
	}
	useRegex := false
	p.boolKey(keyUseRegex, &useRegex)
	p.res.UseRegex = p.res.UseRegex || useRegex
	p.boolKey(keySSLRedirect, &pol.SSLRedirect)
	p.boolKey(keyForceSSLRedirect, &p.res.ForceSSLRedirect)
	if e, ok := p.get(keyBodySize); ok {
		n, err := ParseSize(e.value)
		if err != nil {
			p.invalid(e, err)
		} else {
			pol.BodyLimit = n
		}
	}
	p.durationKey(keyConnectTimeout, &pol.ConnectTimeout)
	p.durationKey(keyReadTimeout, &pol.ReadTimeout)
	p.durationKey(keySendTimeout, &pol.SendTimeout)
	if e, ok := p.get(keyBackendProtocol); ok {
		switch proto := route.Protocol(strings.ToUpper(strings.TrimSpace(e.value))); proto {
		case route.HTTP, route.HTTPS, route.GRPC, route.GRPCS:
			pol.Protocol = proto
		default:
			p.invalid(e, errors.New("want one of HTTP, HTTPS, GRPC, GRPCS"))
		}
	}
	if e, ok := p.get(keyLoadBalance); ok {
		switch strings.ToLower(strings.TrimSpace(e.value)) {
		case "round_robin":
			pol.Balance = route.RoundRobin
		case "least_request", "ewma":
			pol.Balance = route.LeastRequest
		default:
			p.invalid(e, errors.New("want round_robin, least_request or ewma"))
		}
	}
	if e, ok := p.get(keyLimitRPS); ok {
		n, err := parseCount(e.value)
		if err != nil {
			p.invalid(e, err)
		} else {
			pol.LimitRPS = int(n)
		}
	}
}

// parseAffinity sets Policy.Affinity when affinity is "cookie"; the
// cookie keys alone do nothing.
func (p *parser) parseAffinity() {
	e, ok := p.get(keyAffinity)
	if !ok {
		p.inert(`affinity: "cookie"`, keyCookieName, keyCookieMaxAge, keyCookiePath)
		return
	}
	if strings.ToLower(strings.TrimSpace(e.value)) != "cookie" {
		p.invalid(e, errors.New(`only "cookie" is supported`))
		return
	}
	a := &route.Affinity{CookieName: DefaultCookieName}
	if c, ok := p.get(keyCookieName); ok {
		if err := checkCookieName(c.value); err != nil {
			p.invalid(c, err)
		} else {
			a.CookieName = c.value
		}
	}
	if c, ok := p.get(keyCookieMaxAge); ok {
		n, err := parseCount(c.value)
		if err != nil {
			p.invalid(c, err)
		} else {
			a.MaxAge = time.Duration(n) * time.Second
		}
	}
	if c, ok := p.get(keyCookiePath); ok {
		if !strings.HasPrefix(c.value, "/") {
			p.invalid(c, errors.New("a cookie path starts with /"))
		} else {
			a.Path = c.value
		}
	}
	p.res.Policy.Affinity = a
}

// checkCookieName accepts an RFC 6265 token.
func checkCookieName(s string) error {
	if s == "" {
		return errors.New("empty cookie name")
	}
	for _, c := range []byte(s) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return fmt.Errorf("character %q not allowed in a cookie name", c)
		}
	}
	return nil
}

// parseCORS sets Policy.CORS when enable-cors is true.
func (p *parser) parseCORS() {
	enable := false
	p.boolKey(keyEnableCORS, &enable)
	if !enable {
		p.inert(`enable-cors: "true"`, keyCORSOrigin, keyCORSMethods, keyCORSHeaders, keyCORSExpose,
			keyCORSCredentials, keyCORSMaxAge)
		return
	}
	c := &route.CORS{
		AllowOrigins:     []string{DefaultCORSOrigin},
		AllowMethods:     DefaultCORSMethods,
		AllowHeaders:     DefaultCORSHeaders,
		AllowCredentials: DefaultCORSCredentials,
		MaxAge:           DefaultCORSMaxAge,
	}
	if e, ok := p.get(keyCORSOrigin); ok {
		if origins := splitList(e.value); len(origins) == 0 {
			p.invalid(e, errors.New("empty origin list"))
		} else {
			c.AllowOrigins = origins
		}
	}
	p.stringKey(keyCORSMethods, &c.AllowMethods)
	p.stringKey(keyCORSHeaders, &c.AllowHeaders)
	p.stringKey(keyCORSExpose, &c.ExposeHeaders)
	p.boolKey(keyCORSCredentials, &c.AllowCredentials)
	if e, ok := p.get(keyCORSMaxAge); ok {
		n, err := parseCount(e.value)
		if err != nil {
			p.invalid(e, err)
		} else {
			c.MaxAge = time.Duration(n) * time.Second
		}
	}
	p.res.Policy.CORS = c
}

// inert reports the option keys that are set although what they tune is
// off: a user who wrote them expects them to do something.
func (p *parser) inert(needs string, names ...string) {
	for _, n := range names {
		if e, ok := p.get(n); ok {
			p.problem(e.key, "has no effect without "+needs+"; ignored")
		}
	}
}

// stringKey sets *dst to the trimmed value of name.
func (p *parser) stringKey(name string, dst *string) {
	if e, ok := p.get(name); ok {
		*dst = strings.TrimSpace(e.value)
	}
}

// parseAllow reads the source allow list; allowlist-source-range wins
// over its older spelling whitelist-source-range. An invalid list denies
// everything.
func (p *parser) parseAllow() {
	e, ok := p.get(keyAllowlistSourceRange)
	if !ok {
		e, ok = p.get(keyWhitelistSourceRange)
	}
	if !ok {
		return
	}
	prefixes, err := ParsePrefixes(e.value)
	if err != nil {
		p.problem(e.key, "invalid value "+quote(e.value)+": "+err.Error()+"; denying all clients")
		p.res.Policy.DenyAll = true
		return
	}
	p.res.Policy.Allow = prefixes
}

// splitList splits a comma list, trimming blanks and dropping empties.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// ParsePrefixes reads a comma list of CIDRs or bare addresses (IPv4 or
// IPv6); a bare address is a single-host prefix. Prefixes are masked.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	items := splitList(s)
	if len(items) == 0 {
		return nil, errors.New("empty list")
	}
	out := make([]netip.Prefix, 0, len(items))
	for _, it := range items {
		if strings.Contains(it, "/") {
			pfx, err := netip.ParsePrefix(it)
			if err != nil {
				return nil, fmt.Errorf("parse CIDR %q: %w", it, err)
			}
			out = append(out, pfx.Masked())
			continue
		}
		addr, err := netip.ParseAddr(it)
		if err != nil {
			return nil, fmt.Errorf("parse address %q: %w", it, err)
		}
		addr = addr.Unmap()
		out = append(out, netip.PrefixFrom(addr, addr.BitLen()))
	}
	return out, nil
}
