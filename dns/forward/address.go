package forward

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
)

// DefaultPort is the port of an upstream given without one.
const DefaultPort uint16 = 53

// FromResolvConf returns the nameservers of a resolv.conf file as
// host:port addresses, in file order.
func FromResolvConf(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read resolv.conf %s: %w", path, err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || fields[0] != "nameserver" {
			continue
		}
		if len(fields) < 2 {
			return nil, fmt.Errorf("read resolv.conf %s:%d: nameserver without an address", path, line)
		}
		addr, err := normalize(fields[1])
		if err != nil {
			return nil, fmt.Errorf("read resolv.conf %s:%d: %w", path, line, err)
		}
		out = append(out, addr)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read resolv.conf %s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("read resolv.conf %s: no nameserver line", path)
	}
	return out, nil
}

// normalize turns "ip", "ip:port", "[ip6]:port" or "ip6" into the
// canonical host:port form. Host names are refused: resolving them would
// need the DNS this server is part of.
func normalize(s string) (string, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		if ap.Port() == 0 {
			return "", fmt.Errorf("upstream %q: port 0", s)
		}
		return ap.String(), nil
	}
	ip, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return "", fmt.Errorf("upstream %q: not an IP address or IP:port", s)
	}
	return netip.AddrPortFrom(ip, DefaultPort).String(), nil
}

// withoutSelf drops the upstreams that are one of this server's listen
// addresses, so that the server does not forward to itself. A listen
// address on the unspecified IP matches loopback and the local interface
// addresses on its port.
func withoutSelf(ups, self []string) ([]string, error) {
	var selfs []netip.AddrPort
	for _, s := range self {
		ap, err := parseListen(s)
		if err != nil {
			return nil, err
		}
		selfs = append(selfs, ap)
	}
	locals := localAddrs()
	var out []string
	for _, u := range ups {
		ap := netip.MustParseAddrPort(u)
		if !isSelf(ap, selfs, locals) {
			out = append(out, u)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no upstream left: all are this server's own listen addresses")
	}
	return out, nil
}

func isSelf(u netip.AddrPort, selfs []netip.AddrPort, locals map[netip.Addr]bool) bool {
	ip := u.Addr().Unmap()
	for _, s := range selfs {
		if s.Port() != u.Port() {
			continue
		}
		if sip := s.Addr().Unmap(); sip == ip || sip.IsUnspecified() && (ip.IsLoopback() || locals[ip]) {
			return true
		}
	}
	return false
}

// localAddrs lists the addresses of the local interfaces; errors leave
// the set empty, which only weakens the unspecified-address check.
func localAddrs() map[netip.Addr]bool {
	out := map[netip.Addr]bool{}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return out
	}
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			out[p.Addr().Unmap()] = true
		}
	}
	return out
}

// parseListen parses a listen address; ":53" (no host) is the
// unspecified address.
func parseListen(s string) (netip.AddrPort, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("listen address %q: %w", s, err)
	}
	if host == "" {
		host = "::"
	}
	ap, err := netip.ParseAddrPort(net.JoinHostPort(host, port))
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("listen address %q: %w", s, err)
	}
	return ap, nil
}
