package proxy

import (
	"math/rand/v2"
	"net/http"
	"net/netip"
	"strings"
)

// hostOnly is the request's host without port, in lower case.
func hostOnly(host string) string {
	if strings.HasPrefix(host, "[") {
		if i := strings.IndexByte(host, ']'); i > 0 {
			return lowerASCII(host[1:i])
		}
		return lowerASCII(host)
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 && strings.IndexByte(host, ':') == i {
		host = host[:i]
	}
	return lowerASCII(host)
}

// lowerASCII lower-cases s, allocating only when s has upper case.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// clientHost is the client's IP as text, sliced from RemoteAddr.
func clientHost(remoteAddr string) string {
	i := strings.LastIndexByte(remoteAddr, ':')
	if i < 0 {
		return remoteAddr
	}
	h := remoteAddr[:i]
	if len(h) > 1 && h[0] == '[' && h[len(h)-1] == ']' {
		h = h[1 : len(h)-1]
	}
	return h
}

// clientAddr is the client's IP; the zero Addr when RemoteAddr is not
// an address (a test, a unix socket).
func clientAddr(remoteAddr string) netip.Addr {
	ap, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

const maxRequestIDLen = 128

// validRequestID reports whether a client-supplied X-Request-ID is kept:
// 1 to 128 characters of letters, digits, '-', '_' and '.'.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

const hexDigits = "0123456789abcdef"

// newRequestID is 32 random hex characters.
func newRequestID() string {
	var b [32]byte
	for half := 0; half < 2; half++ {
		v := rand.Uint64()
		for i := 0; i < 16; i++ {
			b[half*16+i] = hexDigits[v&0xf]
			v >>= 4
		}
	}
	return string(b[:])
}

// requestID keeps a valid client-supplied id or makes one.
func requestID(h http.Header) string {
	if v := h["X-Request-Id"]; len(v) == 1 && validRequestID(v[0]) {
		return v[0]
	}
	return newRequestID()
}

// setForwarded sets the X-Forwarded-* and X-Real-IP headers of the
// upstream request.
// The id header value is shared, read-only, with the response.
func setForwarded(out http.Header, in *http.Request, l *listener, id []string) {
	ip := clientHost(in.RemoteAddr)
	xff := ip
	if prior := in.Header["X-Forwarded-For"]; len(prior) > 0 {
		xff = strings.Join(prior, ", ") + ", " + ip
	}
	out["X-Forwarded-For"] = []string{xff}
	out["X-Forwarded-Proto"] = l.protoHeader
	out["X-Forwarded-Host"] = []string{in.Host}
	if l.portHeader != nil {
		out["X-Forwarded-Port"] = l.portHeader
	}
	out["X-Real-Ip"] = []string{ip}
	out["X-Request-Id"] = id
}
