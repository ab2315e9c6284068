package cache

import "github.com/miekg/dns"

// Key flag bits: the DO and CD bits of the query separate entries.
const (
	flagDO = 1 << iota
	flagCD
)

// flagsOf returns the key flags of a query.
func flagsOf(r *dns.Msg) uint8 {
	var f uint8
	if o := r.IsEdns0(); o != nil && o.Do() {
		f |= flagDO
	}
	if r.CheckingDisabled {
		f |= flagCD
	}
	return f
}

func hashKey(name string, qtype, qclass uint16, flags uint8) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		h = (h ^ uint64(c)) * prime
	}
	if len(name) == 0 || name[len(name)-1] != '.' {
		h = (h ^ '.') * prime // "example.org" and "example.org." are one name
	}
	for _, b := range [5]byte{byte(qtype >> 8), byte(qtype), byte(qclass >> 8), byte(qclass), flags} {
		h = (h ^ uint64(b)) * prime
	}
	return h
}
