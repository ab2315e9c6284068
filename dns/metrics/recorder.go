package metrics

import (
	"github.com/miekg/dns"
)

// recorder remembers the rcode and size of the reply written through it.
type recorder struct {
	dns.ResponseWriter
	written bool
	rcode   int
	size    int
}

// WriteMsg writes m and records its rcode and wire size (from the
// server's writer when it tells, else m.Len()).
func (r *recorder) WriteMsg(m *dns.Msg) error {
	err := r.ResponseWriter.WriteMsg(m)
	if err != nil && r.written {
		return err // a second write: keep the first reply's numbers
	}
	r.written, r.rcode = true, m.Rcode
	if s, ok := r.ResponseWriter.(interface{ WrittenBytes() int }); ok {
		r.size = s.WrittenBytes()
	} else {
		r.size = m.Len()
	}
	return err
}

// Write writes a packed reply and records its rcode and size.
func (r *recorder) Write(b []byte) (int, error) {
	n, err := r.ResponseWriter.Write(b)
	if err != nil && r.written {
		return n, err
	}
	r.written, r.size = true, len(b)
	if len(b) >= 4 {
		r.rcode = int(b[3] & 0xF)
	}
	return n, err
}

// WrittenBytes passes on the reply size to handlers further out.
func (r *recorder) WrittenBytes() int { return r.size }

// QueryBytes passes on the query size when the server's writer tells it.
func (r *recorder) QueryBytes() int {
	if q, ok := r.ResponseWriter.(interface{ QueryBytes() int }); ok {
		return q.QueryBytes()
	}
	return 0
}
