package proxy

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"rudder/ingress/route"
)

// allowed applies the source-range policy to a client address.
func allowed(pol *route.Policy, remoteAddr string) bool {
	if pol.DenyAll {
		return false
	}
	if pol.Allow == nil {
		return true
	}
	a := clientAddr(remoteAddr)
	if !a.IsValid() {
		return false
	}
	for _, p := range pol.Allow {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// redirectLocation is the https:// URL of a plain-HTTP request.
func redirectLocation(host string, r *http.Request) string {
	if strings.IndexByte(host, ':') >= 0 {
		host = "[" + host + "]"
	}
	return "https://" + host + r.URL.RequestURI()
}

// corsOrigin is the Allow-Origin value for a request Origin under c, or
// "" when the origin is not allowed. A wildcard answers "*", with
// credentials allowed or not, as ingress-nginx does: reflecting the
// Origin instead would let any site make requests with the user's
// cookies (browsers refuse credentials with "*" for that reason).
// Credentialed CORS needs the origins listed.
func corsOrigin(c *route.CORS, origin string) string {
	if origin == "" {
		return ""
	}
	for _, o := range c.AllowOrigins {
		switch {
		case o == "*":
			return "*"
		case strings.EqualFold(o, origin):
			return origin
		}
	}
	return ""
}

// isPreflight reports whether r is a CORS preflight request.
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" &&
		r.Header.Get("Access-Control-Request-Method") != ""
}

// setCORS adds the headers every response to an allowed origin gets.
func setCORS(h http.Header, c *route.CORS, allowOrigin string) {
	h.Set("Access-Control-Allow-Origin", allowOrigin)
	if c.AllowCredentials && allowOrigin != "*" { // browsers refuse the pair
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if c.ExposeHeaders != "" {
		h.Set("Access-Control-Expose-Headers", c.ExposeHeaders)
	}
	if allowOrigin != "*" {
		h.Add("Vary", "Origin")
	}
}

// preflight answers a CORS preflight with 204: the Allow-* headers when
// the origin is allowed, none otherwise (the browser then refuses).
func preflight(w http.ResponseWriter, r *http.Request, c *route.CORS) {
	h := w.Header()
	if o := corsOrigin(c, r.Header.Get("Origin")); o != "" {
		setCORS(h, c, o)
		methods := c.AllowMethods
		if methods == "" {
			methods = "GET, PUT, POST, DELETE, PATCH, OPTIONS"
		}
		h.Set("Access-Control-Allow-Methods", methods)
		headers := c.AllowHeaders
		if headers == "" {
			headers = r.Header.Get("Access-Control-Request-Headers")
		}
		if headers != "" {
			h.Set("Access-Control-Allow-Headers", headers)
		}
		if c.MaxAge > 0 {
			h.Set("Access-Control-Max-Age", strconv.FormatInt(int64(c.MaxAge/time.Second), 10))
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// affinityCookie is the Set-Cookie value pinning a client to e.
func affinityCookie(a *route.Affinity, e *endpoint) string {
	path := a.Path
	if path == "" {
		path = "/"
	}
	c := &http.Cookie{Name: a.CookieName, Value: e.hash, Path: path, HttpOnly: true}
	if a.MaxAge > 0 {
		c.MaxAge = int(a.MaxAge / time.Second)
	}
	return c.String()
}
