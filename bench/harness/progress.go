package harness

import (
	"fmt"
	"io"
	"time"
)

// progress is the terminal progress line: rewritten in place on a TTY,
// one line per step otherwise.
type progress struct {
	w     io.Writer
	tty   bool
	start time.Time
	dirty bool
}

func newProgress(w io.Writer, tty bool) *progress {
	return &progress{w: w, tty: tty, start: time.Now()}
}

// step shows what is being measured now.
func (p *progress) step(format string, args ...any) {
	if p.w == nil {
		return
	}
	line := fmt.Sprintf("[bench %4.0fs] ", time.Since(p.start).Seconds()) + fmt.Sprintf(format, args...)
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		p.dirty = true
		return
	}
	fmt.Fprintln(p.w, line)
}

// logf prints a line that stays (results, skips).
func (p *progress) logf(format string, args ...any) {
	if p.w == nil {
		return
	}
	if p.dirty {
		fmt.Fprint(p.w, "\r\033[K")
		p.dirty = false
	}
	fmt.Fprintf(p.w, format+"\n", args...)
}

func (p *progress) done() {
	if p.w != nil && p.dirty {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
