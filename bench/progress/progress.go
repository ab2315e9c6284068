// Package progress is the benchmarks' terminal progress line: the current
// step rewritten in place on a terminal ("[bench  12s] ..."), one line
// per step otherwise, with lines that stay for results.
package progress

import (
	"fmt"
	"io"
	"time"
)

// Line writes progress to w; a nil *Line or nil w writes nothing.
type Line struct {
	w      io.Writer
	tty    bool
	label  string
	prefix string
	start  time.Time
	dirty  bool
}

// New starts a progress line labelled label ("bench", "dns"); tty says
// whether w is a terminal. Lines that stay get prefix in front (e.g.
// "[dns] ", or "" for none).
func New(w io.Writer, tty bool, label, prefix string) *Line {
	return &Line{w: w, tty: tty, label: label, prefix: prefix, start: time.Now()}
}

// Step shows what is being done now.
func (p *Line) Step(format string, args ...any) {
	if p == nil || p.w == nil {
		return
	}
	line := fmt.Sprintf("[%s %4.0fs] ", p.label, time.Since(p.start).Seconds()) + fmt.Sprintf(format, args...)
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		p.dirty = true
		return
	}
	fmt.Fprintln(p.w, line)
}

// Logf prints a line that stays (results, skips).
func (p *Line) Logf(format string, args ...any) {
	if p == nil || p.w == nil {
		return
	}
	if p.dirty {
		fmt.Fprint(p.w, "\r\033[K")
		p.dirty = false
	}
	fmt.Fprintf(p.w, p.prefix+format+"\n", args...)
}

// Done clears the step line.
func (p *Line) Done() {
	if p != nil && p.w != nil && p.dirty {
		fmt.Fprint(p.w, "\r\033[K")
		p.dirty = false
	}
}
