package proxy

import (
	"net/http"
	"sync/atomic"
	"time"
)

// dateCache formats the Date field the wire path adds, once a second
// rather than once a response.
type dateCache struct {
	last atomic.Pointer[formattedDate]
}

type formattedDate struct {
	sec int64
	s   string
}

// format is t as an HTTP date, t's second cached.
func (c *dateCache) format(t time.Time) string {
	sec := t.Unix()
	if d := c.last.Load(); d != nil && d.sec == sec {
		return d.s
	}
	d := &formattedDate{sec: sec, s: t.UTC().Format(http.TimeFormat)}
	c.last.Store(d)
	return d.s
}
