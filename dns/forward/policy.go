package forward

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"
)

// Policy is the order in which upstreams are tried.
type Policy string

// The policies. Random is the default.
const (
	Random     Policy = "random"
	RoundRobin Policy = "round_robin"
	Sequential Policy = "sequential"
)

func (p Policy) valid() error {
	switch p {
	case Random, RoundRobin, Sequential:
		return nil
	}
	return fmt.Errorf("policy %q: want %s, %s or %s", p, Random, RoundRobin, Sequential)
}

// order appends the upstreams to buf in the order p tries them.
func (p Policy) order(ups []*upstream, rr *atomic.Uint32, buf []*upstream) []*upstream {
	n := len(ups)
	switch p {
	case RoundRobin:
		start := int(rr.Add(1)-1) % n
		buf = append(buf, ups[start:]...)
		return append(buf, ups[:start]...)
	case Random:
		buf = append(buf, ups...)
		for i := n - 1; i > 0; i-- {
			j := rand.IntN(i + 1)
			buf[i], buf[j] = buf[j], buf[i]
		}
		return buf
	}
	return append(buf, ups...)
}
