package lab

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// progress prints one line per step: a spinner with elapsed time on a
// terminal, plain start and end lines otherwise.
type progress struct {
	out io.Writer
	tty bool
}

func newProgress(out io.Writer) *progress {
	if out == nil {
		out = io.Discard
	}
	p := &progress{out: out}
	if f, ok := out.(*os.File); ok {
		_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
		p.tty = err == nil
	}
	return p
}

// printf writes a plain line.
func (p *progress) printf(format string, args ...any) {
	fmt.Fprintf(p.out, format+"\n", args...)
}

// step announces a step; the returned func ends it with its outcome.
func (p *progress) step(name string) func(err error) {
	start := time.Now()
	if !p.tty {
		fmt.Fprintf(p.out, "• %s ...\n", name)
		return func(err error) {
			if err != nil {
				fmt.Fprintf(p.out, "✗ %s: failed after %s\n", name, since(start))
				return
			}
			fmt.Fprintf(p.out, "✓ %s (%s)\n", name, since(start))
		}
	}
	var once sync.Once
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		frames := `⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏`
		runes := []rune(frames)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			fmt.Fprintf(p.out, "\r\033[K%c %s (%s)", runes[i%len(runes)], name, since(start))
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func(err error) {
		once.Do(func() {
			close(stop)
			<-done
			mark := "✓"
			if err != nil {
				mark = "✗"
			}
			fmt.Fprintf(p.out, "\r\033[K%s %s (%s)\n", mark, name, since(start))
		})
	}
}

func since(t time.Time) time.Duration { return time.Since(t).Round(10 * time.Millisecond) }
