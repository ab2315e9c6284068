package hosts

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// table is one parsed set of host entries, read-only once built.
type table struct {
	v4, v6  map[string][]net.IP // lowercased FQDN -> addresses, in file order
	reverse map[string][]string // lowercased reverse name -> host names as written
}

func newTable() *table {
	return &table{v4: map[string][]net.IP{}, v6: map[string][]net.IP{}, reverse: map[string][]string{}}
}

// has tells whether name has any address: a name in the table answers
// NODATA for the other types instead of passing them on.
func (t *table) has(name string) bool { return len(t.v4[name]) > 0 || len(t.v6[name]) > 0 }

// parse adds the entries of an /etc/hosts style text to t. A bad line is
// an error when strict, else it is skipped and reported in skipped.
func (t *table) parse(r io.Reader, source string, strict bool) (skipped []error, err error) {
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		if lerr := t.addLine(sc.Text()); lerr != nil {
			lerr = fmt.Errorf("%s:%d: %w", source, n, lerr)
			if strict {
				return nil, lerr
			}
			skipped = append(skipped, lerr)
		}
	}
	if err := sc.Err(); err != nil {
		return skipped, fmt.Errorf("read %s: %w", source, err)
	}
	return skipped, nil
}

// addLine adds "IP name [alias...] [# comment]".
func (t *table) addLine(line string) error {
	if i := strings.IndexByte(line, '#'); i >= 0 {
		line = line[:i]
	}
	f := strings.Fields(line)
	if len(f) == 0 {
		return nil
	}
	if len(f) < 2 {
		return fmt.Errorf("%q: want an address and at least one name", line)
	}
	addr, err := netip.ParseAddr(f[0])
	if err != nil {
		return fmt.Errorf("%q: bad address: %w", f[0], err)
	}
	addr = addr.Unmap().WithZone("")
	for _, name := range f[1:] {
		if _, ok := dns.IsDomainName(name); !ok {
			return fmt.Errorf("%q: not a domain name", name)
		}
	}
	ip := net.IP(addr.AsSlice())
	rev, _ := dns.ReverseAddr(addr.String())
	for _, name := range f[1:] {
		fq := dns.Fqdn(name)
		key := strings.ToLower(fq)
		if addr.Is4() {
			t.v4[key] = appendIP(t.v4[key], ip)
		} else {
			t.v6[key] = appendIP(t.v6[key], ip)
		}
		t.reverse[rev] = appendName(t.reverse[rev], fq)
	}
	return nil
}

func appendIP(ips []net.IP, ip net.IP) []net.IP {
	for _, x := range ips {
		if x.Equal(ip) {
			return ips
		}
	}
	return append(ips, ip)
}

func appendName(names []string, name string) []string {
	for _, x := range names {
		if strings.EqualFold(x, name) {
			return names
		}
	}
	return append(names, name)
}
