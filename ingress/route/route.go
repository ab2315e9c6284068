// Package route holds what the ingress proxy needs to serve one request:
// the rule that matched, its backend's endpoints and the policy the
// Ingress's annotations ask for. The router (package ingress/router)
// compiles these values from Ingress objects; the proxy only reads them.
// Every value here is immutable once published in a Table: a new
// configuration is a new Table, swapped in whole.
package route

import (
	"crypto/tls"
	"net/netip"
	"regexp"
	"time"
)

// Table is one generation of the ingress configuration, as the proxy
// queries it. Implementations are safe for concurrent use.
type Table interface {
	// Match is the route for a request's host (lower case, without port)
	// and path (the URL's path, not yet unescaped further), including the
	// default backends; nil means 404.
	Match(host, path string) *Route
	// Certificate is the certificate for a TLS server name (SNI, lower
	// case), or nil when no Ingress has one for it (the proxy then
	// serves the default certificate).
	Certificate(serverName string) *tls.Certificate
	// DefaultCertificate is the certificate for every other name and
	// for clients without SNI, or nil for the proxy's own (generated or
	// configured) one.
	DefaultCertificate() *tls.Certificate
}

// PathType is how Route.Path matched: the Ingress v1 path types, plus
// Regex for ImplementationSpecific paths under use-regex (or
// rewrite-target) and Default for default backends.
type PathType string

// The path types.
const (
	Exact   PathType = "Exact"
	Prefix  PathType = "Prefix"
	Regex   PathType = "Regex"
	Default PathType = "Default"
)

// Route is one matched rule.
type Route struct {
	// Namespace and Name are the Ingress the rule comes from; both empty
	// for the global default backend.
	Namespace, Name string
	// Host is the rule's host as written ("", "foo.com", "*.foo.com").
	Host     string
	Path     string
	PathType PathType
	// Backend is nil when the rule names a Service (or port) that does
	// not exist: the proxy answers 503.
	Backend *Backend
	Policy  *Policy
	// Pattern is the compiled path for Regex routes (anchored at the
	// start, case-insensitive like ingress-nginx); it drives the rewrite.
	Pattern *regexp.Regexp
}

// Rewrite is the upstream path for a request path: the path itself, or
// RewriteTarget with the pattern's capture groups ($1, $2, ...)
// expanded when rewrite-target is set.
func (r *Route) Rewrite(path string) string {
	if r.Policy == nil || r.Policy.RewriteTarget == "" {
		return path
	}
	if r.Pattern == nil {
		return r.Policy.RewriteTarget
	}
	m := r.Pattern.FindStringSubmatchIndex(path)
	if m == nil {
		return r.Policy.RewriteTarget
	}
	return string(r.Pattern.ExpandString(nil, r.Policy.RewriteTarget, path, m))
}

// Backend is a Service port and its endpoints.
type Backend struct {
	// Key names the backend in metrics and logs: "namespace/service:port".
	Key                string
	Namespace, Service string
	// Port is the Service port as the Ingress names it (name or number).
	Port string
	// Endpoints are the ready, not terminating endpoints of that port
	// (or, when there are none, the terminating ones still serving),
	// sorted; empty means 503.
	Endpoints []netip.AddrPort
	// ExternalName is set for Services of type ExternalName: the proxy
	// resolves it by DNS when it connects, to ExternalPort.
	ExternalName string
	ExternalPort uint16
}

// Protocol is how the proxy talks to a backend.
type Protocol string

// The backend protocols (annotation backend-protocol).
const (
	HTTP  Protocol = "HTTP"
	HTTPS Protocol = "HTTPS"
	GRPC  Protocol = "GRPC"  // HTTP/2 over cleartext (h2c)
	GRPCS Protocol = "GRPCS" // HTTP/2 over TLS
)

// Balance is how the proxy picks an endpoint.
type Balance string

// The balancing algorithms (annotation load-balance).
const (
	RoundRobin   Balance = "round_robin"
	LeastRequest Balance = "least_request"
)

// Policy is what an Ingress's annotations ask of every request its rules
// route. The router fills every field; zero values mean "off" except
// where noted.
type Policy struct {
	// SSLRedirect sends plain-HTTP requests to https:// with 308.
	SSLRedirect bool
	// BodyLimit is the largest request body in bytes (413 past it);
	// 0 means unlimited.
	BodyLimit int64
	// ConnectTimeout bounds connecting to an endpoint; ReadTimeout the
	// wait for the response (504 past it); SendTimeout the time to send
	// the request to the endpoint.
	ConnectTimeout, ReadTimeout, SendTimeout time.Duration
	Protocol                                 Protocol
	Balance                                  Balance
	// Affinity, when set, pins a client to an endpoint with a cookie.
	Affinity *Affinity
	CORS     *CORS
	// LimitRPS is the requests per second allowed per client address
	// (with a burst of 5×, like ingress-nginx); 0 means unlimited.
	LimitRPS int
	// Allow lists the client networks allowed (403 for others); nil
	// allows all. DenyAll is set when the list given was invalid: the
	// route then fails closed.
	Allow   []netip.Prefix
	DenyAll bool
	// RewriteTarget replaces the request path (see Route.Rewrite).
	RewriteTarget string
}

// Affinity is cookie-based session affinity.
type Affinity struct {
	CookieName string
	// MaxAge is the cookie's Max-Age; 0 makes it a session cookie.
	MaxAge time.Duration
	// Path is the cookie's path (the rule's path by default).
	Path string
}

// CORS is the cross-origin policy of enable-cors.
type CORS struct {
	// AllowOrigins are the allowed origins; "*" allows any.
	AllowOrigins     []string
	AllowMethods     string
	AllowHeaders     string
	ExposeHeaders    string
	AllowCredentials bool
	MaxAge           time.Duration
}
