package proxy

import (
	"bytes"
	"errors"
)

// The wire path's HTTP/1.1 parsing. It is deliberately narrow: a request
// head it does not fully understand is not an error here but "not for
// the wire path", and net/http, which is strict and complete, serves the
// connection from then on. That keeps the fast parser small and leaves
// every corner of the protocol (bodies, upgrades, obsolete folding,
// encoded paths, odd Connection options) to the standard library.

var crlf2 = []byte("\r\n\r\n")

// maxWireHeaders bounds the header fields of a wire-path request.
const maxWireHeaders = 64

// field is one header field; name and value point into the read buffer.
type field struct {
	name, value []byte
	drop        bool // hop-by-hop or replaced by the proxy
}

// reqHead is a parsed request head. Its slices point into the
// connection's read buffer: valid until the next read from it.
type reqHead struct {
	method, target, path, query, host []byte
	xff, requestID                    []byte
	fields                            []field
	closeConn                         bool
	hasLength                         bool // Content-Length: 0 seen
	teTrailers                        bool // TE names trailers
	size                              int  // bytes of the head, final CRLF CRLF included
}

// parseRequest parses head (ending in CRLF CRLF) into h and reports
// whether the wire path may serve it: HTTP/1.1, GET or HEAD, no body, an
// origin-form target without escapes, one Host, and no Upgrade, Expect,
// Transfer-Encoding or Connection options other than close/keep-alive.
func parseRequest(head []byte, h *reqHead) bool {
	*h = reqHead{fields: h.fields[:0], size: len(head)}
	eol := bytes.Index(head, []byte("\r\n"))
	if eol < 0 || !parseRequestLine(head[:eol], h) {
		return false
	}
	rest := head[eol+2 : len(head)-2] // header lines, each ending in CRLF
	hosts := 0
	for len(rest) > 0 {
		i := bytes.Index(rest, []byte("\r\n"))
		if i < 0 {
			return false
		}
		name, value, ok := splitField(rest[:i])
		rest = rest[i+2:]
		if !ok || len(h.fields) == maxWireHeaders {
			return false
		}
		f := field{name: name, value: value}
		switch {
		case equalFold(name, "host"):
			hosts++
			h.host = value
		case equalFold(name, "content-length"):
			if string(value) != "0" || h.hasLength {
				return false // a body, or a repeat net/http would fold into one
			}
			h.hasLength, f.drop = true, true // GET and HEAD: net/http sends none either
		case equalFold(name, "transfer-encoding"), equalFold(name, "upgrade"), equalFold(name, "expect"),
			equalFold(name, "trailer"):
			return false
		case equalFold(name, "connection"):
			if !connectionOptions(value, &h.closeConn) {
				return false
			}
			f.drop = true
		case equalFold(name, "te"):
			// Hop-by-hop; "trailers" is passed on, as net/http's
			// ReverseProxy does, for backends that care (gRPC).
			h.teTrailers, f.drop = h.teTrailers || hasToken(value, "trailers"), true
		case equalFold(name, "keep-alive"), equalFold(name, "proxy-connection"),
			equalFold(name, "x-forwarded-proto"), equalFold(name, "x-forwarded-host"),
			equalFold(name, "x-forwarded-port"), equalFold(name, "x-real-ip"):
			f.drop = true
		case equalFold(name, "x-forwarded-for"):
			if h.xff != nil {
				return false
			}
			h.xff, f.drop = value, true
		case equalFold(name, "x-request-id"):
			if h.requestID != nil {
				return false
			}
			h.requestID, f.drop = value, true
		}
		h.fields = append(h.fields, f)
	}
	return hosts == 1 && hostChars(h.host)
}

// hostChars tells whether host is non-empty and made of letters, digits
// and "-._:[]" only: a name, an IPv4 or a bracketed IPv6 address and a
// port. Other hosts, valid or not, are for net/http to judge (it answers
// 400 for a malformed one); the wire path would route and forward them.
func hostChars(host []byte) bool {
	for _, c := range host {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '.', c == '_', c == ':', c == '[', c == ']':
		default:
			return false
		}
	}
	return len(host) > 0
}

// parseRequestLine accepts "GET|HEAD SP /origin-form SP HTTP/1.1".
func parseRequestLine(line []byte, h *reqHead) bool {
	sp1 := bytes.IndexByte(line, ' ')
	if sp1 < 0 {
		return false
	}
	h.method = line[:sp1]
	if string(h.method) != "GET" && string(h.method) != "HEAD" {
		return false
	}
	rest := line[sp1+1:]
	sp2 := bytes.IndexByte(rest, ' ')
	if sp2 < 1 || string(rest[sp2+1:]) != "HTTP/1.1" {
		return false
	}
	h.target = rest[:sp2]
	if h.target[0] != '/' || (len(h.target) > 1 && h.target[1] == '/') {
		return false
	}
	for _, c := range h.target {
		if c <= ' ' || c >= 0x7f || c == '%' || c == '#' {
			return false
		}
	}
	h.path, h.query = h.target, nil
	if q := bytes.IndexByte(h.target, '?'); q >= 0 {
		h.path, h.query = h.target[:q], h.target[q:]
	}
	return true
}

// splitField splits "name: value" with a token name and a value of
// visible characters, spaces and tabs (optional whitespace trimmed).
func splitField(line []byte) (name, value []byte, ok bool) {
	colon := bytes.IndexByte(line, ':')
	if colon < 1 {
		return nil, nil, false
	}
	name = line[:colon]
	for _, c := range name {
		if !isTokenChar(c) {
			return nil, nil, false
		}
	}
	value = line[colon+1:]
	if !fieldText(value) {
		return nil, nil, false
	}
	return name, trimOWS(value), true
}

// fieldText tells whether b holds only what a field value, reason phrase
// or chunk extension may: visible characters, spaces, tabs and obs-text.
func fieldText(b []byte) bool {
	for _, c := range b {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// trimOWS trims the optional white space (spaces and tabs) around a
// field value; bytes.Trim builds a set per call, measurable here.
func trimOWS(v []byte) []byte {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	return v
}

// connectionOptions accepts a Connection header of "close" and
// "keep-alive" tokens only (others name headers to strip: net/http's
// job).
func connectionOptions(v []byte, closeConn *bool) bool {
	for len(v) > 0 {
		var tok []byte
		tok, v = nextToken(v)
		switch {
		case equalFold(tok, "close"):
			*closeConn = true
		case equalFold(tok, "keep-alive"), len(tok) == 0:
		default:
			return false
		}
	}
	return true
}

// hasToken tells whether the comma-separated list v has the lower-case
// token tok.
func hasToken(v []byte, tok string) bool {
	for len(v) > 0 {
		var t []byte
		t, v = nextToken(v)
		if equalFold(t, tok) {
			return true
		}
	}
	return false
}

// nextToken splits the first element, white space trimmed, off a
// comma-separated list.
func nextToken(v []byte) (tok, rest []byte) {
	if i := bytes.IndexByte(v, ','); i >= 0 {
		return trimOWS(v[:i]), v[i+1:]
	}
	return trimOWS(v), nil
}

func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return bytes.IndexByte([]byte("!#$%&'*+-.^_`|~"), c) >= 0
}

// equalFold compares b with the lower-case ASCII s, ignoring case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// respHead is a parsed upstream response head.
type respHead struct {
	status        int
	statusLine    []byte // "200 OK" after the version
	fields        []field
	contentLength int64 // -1: none
	chunked       bool
	closeConn     bool
	hasDate       bool
	size          int
}

var errBadResponse = errors.New("malformed upstream response")

// parseResponse parses an upstream response head (ending in CRLF CRLF).
func parseResponse(head []byte, h *respHead) error {
	*h = respHead{fields: h.fields[:0], contentLength: -1, size: len(head)}
	eol := bytes.Index(head, []byte("\r\n"))
	if eol < 0 {
		return errBadResponse
	}
	line := head[:eol]
	var http10 bool
	switch {
	case bytes.HasPrefix(line, []byte("HTTP/1.1 ")):
	case bytes.HasPrefix(line, []byte("HTTP/1.0 ")):
		http10 = true
	default:
		return errBadResponse
	}
	h.statusLine = line[len("HTTP/1.1 "):]
	if len(h.statusLine) < 3 || (len(h.statusLine) > 3 && h.statusLine[3] != ' ') || !fieldText(h.statusLine) {
		return errBadResponse // the line is relayed: no CR or LF may hide in it
	}
	code, ok := parseDigits(h.statusLine[:3], 10)
	if !ok || code < 100 {
		return errBadResponse
	}
	h.status = int(code)
	keepAlive, options := false, false
	rest := head[eol+2 : len(head)-2]
	for len(rest) > 0 {
		i := bytes.Index(rest, []byte("\r\n"))
		if i < 0 {
			return errBadResponse
		}
		name, value, ok := splitField(rest[:i])
		rest = rest[i+2:]
		if !ok || len(h.fields) == maxWireHeaders {
			return errBadResponse
		}
		f := field{name: name, value: value}
		switch {
		case equalFold(name, "content-length"):
			n, ok := parseDigits(value, 10)
			if !ok || (h.contentLength >= 0 && n != h.contentLength) {
				return errBadResponse
			}
			h.contentLength = n
		case equalFold(name, "transfer-encoding"):
			if !equalFold(value, "chunked") || h.chunked {
				return errBadResponse
			}
			h.chunked = true
		case equalFold(name, "connection"):
			for v := value; len(v) > 0; {
				var tok []byte
				tok, v = nextToken(v)
				h.closeConn = h.closeConn || equalFold(tok, "close")
				keepAlive = keepAlive || equalFold(tok, "keep-alive")
				options = options || !(len(tok) == 0 || equalFold(tok, "close") || equalFold(tok, "keep-alive"))
			}
			f.drop = true
		case equalFold(name, "keep-alive"), equalFold(name, "proxy-connection"), equalFold(name, "upgrade"):
			f.drop = true
		case equalFold(name, "date"):
			h.hasDate = true
		}
		h.fields = append(h.fields, f)
	}
	if h.chunked && (h.contentLength >= 0 || http10) {
		// Both framings, or chunked in HTTP/1.0 (which net/http ignores
		// and RFC 9112 calls faulty framing): readers would disagree on
		// where the body ends, a smuggling vector.
		return errBadResponse
	}
	if http10 && !keepAlive {
		h.closeConn = true
	}
	if options {
		dropConnectionOptions(h.fields)
	}
	return nil
}

// dropConnectionOptions drops the fields that a Connection field names:
// they are for this hop only (RFC 9110 7.6.1).
func dropConnectionOptions(fields []field) {
	for _, c := range fields {
		if !equalFold(c.name, "connection") {
			continue
		}
		for v := c.value; len(v) > 0; {
			var tok []byte
			tok, v = nextToken(v)
			tok = bytes.ToLower(tok)
			for i := range fields {
				if equalFold(fields[i].name, string(tok)) {
					fields[i].drop = true
				}
			}
		}
	}
}

// bodyless tells whether a response to method with status has no body.
func bodyless(method []byte, status int) bool {
	return string(method) == "HEAD" || status == 204 || status == 304 || (status >= 100 && status < 200)
}

// hasBareLF tells whether b has a line feed without a carriage return
// before it. net/http takes such line ends; the wire path, which looks
// for CRLF CRLF, would wait for a head end that never comes.
func hasBareLF(b []byte) bool {
	for i := bytes.IndexByte(b, '\n'); i >= 0; {
		if i == 0 || b[i-1] != '\r' {
			return true
		}
		j := bytes.IndexByte(b[i+1:], '\n')
		if j < 0 {
			return false
		}
		i += j + 1
	}
	return false
}

// parseDigits parses a non-empty run of digits in base 10 or 16 (no sign,
// no prefix, no spaces: strconv accepts a sign that net/http and most
// clients refuse), failing past 2^63-1.
func parseDigits(b []byte, base int64) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		var d int64
		switch {
		case '0' <= c && c <= '9':
			d = int64(c - '0')
		case base == 16 && 'a' <= c && c <= 'f':
			d = int64(c-'a') + 10
		case base == 16 && 'A' <= c && c <= 'F':
			d = int64(c-'A') + 10
		default:
			return 0, false
		}
		if n > (1<<63-1-d)/base {
			return 0, false
		}
		n = n*base + d
	}
	return n, true
}
