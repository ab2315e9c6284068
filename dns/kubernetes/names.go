package kubernetes

import (
	"net/netip"
	"strconv"
	"strings"

	discoveryv1 "k8s.io/api/discovery/v1"
)

// endpointLabel is the endpoint's hostname when it is a valid DNS label,
// else its dashed address.
func endpointLabel(ep *discoveryv1.Endpoint, a netip.Addr) string {
	if ep.Hostname != nil && validLabel(*ep.Hostname) {
		return strings.ToLower(*ep.Hostname)
	}
	return dashed(a)
}

func validLabel(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-' && i > 0 && i < len(s)-1:
		default:
			return false
		}
	}
	return true
}

// dashed writes an address as one label: 10-1-2-3, fd00--1.
func dashed(a netip.Addr) string {
	return strings.Map(func(r rune) rune {
		if r == '.' || r == ':' {
			return '-'
		}
		return r
	}, a.String())
}

// reverseName is the PTR owner of an address (in-addr.arpa. or ip6.arpa.).
func reverseName(a netip.Addr) string {
	const hex = "0123456789abcdef"
	var buf [73]byte
	out := buf[:0]
	if a.Is4() {
		v := a.As4()
		for i := 3; i >= 0; i-- {
			out = strconv.AppendUint(out, uint64(v[i]), 10)
			out = append(out, '.')
		}
		return string(append(out, "in-addr.arpa."...))
	}
	v := a.As16()
	for i := 15; i >= 0; i-- {
		out = append(out, hex[v[i]&0xf], '.', hex[v[i]>>4], '.')
	}
	return string(append(out, "ip6.arpa."...))
}

// parseDashed reads a dashed address label: 10-1-2-3 or fd00--1.
func parseDashed(label string) (netip.Addr, bool) {
	if label == "" || len(label) > 63 {
		return netip.Addr{}, false
	}
	if a, ok := undash(label, '.'); ok && a.Is4() {
		return a, true
	}
	if a, ok := undash(label, ':'); ok && a.Is6() {
		return a, true
	}
	return netip.Addr{}, false
}

func undash(label string, sep byte) (netip.Addr, bool) {
	var buf [63]byte
	b := buf[:len(label)]
	for i := 0; i < len(label); i++ {
		c := label[i]
		switch {
		case c == '-':
			c = sep
		case c == '.' || c == ':' || c == '%':
			return netip.Addr{}, false
		}
		b[i] = c
	}
	a, err := netip.ParseAddr(string(b))
	return a, err == nil
}
