// Package crilog reads container log files in the CRI format, the format
// container runtimes write and the kubelet serves:
//
//	<RFC3339Nano time> <stdout|stderr> <F|P> <content>\n
//
// "P" marks a partial line that continues in the next record; "F" ends a
// line. The Reader joins partial lines into whole lines; Format renders a
// line as `kubectl logs` shows it. The package is pure: it works on any
// io.Reader and never touches the file system.
package crilog

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"
)

// ErrMalformed is wrapped by the error Next returns for a line that is not
// in the CRI format. The reader stays usable: the line is skipped.
var ErrMalformed = errors.New("malformed CRI log line")

// DefaultMaxLineBytes bounds a joined line: a container that writes
// partial fragments forever cannot make the reader grow without limit.
const DefaultMaxLineBytes = 1 << 20

// Stream is the output stream a line was written to.
type Stream string

// The streams of a CRI log line.
const (
	Stdout Stream = "stdout"
	Stderr Stream = "stderr"
)

// Line is one log line with its partial fragments joined.
type Line struct {
	// Time is the time of the line's first fragment.
	Time time.Time
	// Stream is the stream of the line's first fragment.
	Stream Stream
	// Content is the line without its trailing newline.
	Content []byte
	// Partial is set when the line did not end: the file ended inside
	// it (see Flush) or it outgrew the maximum line size.
	Partial bool
}

// Reader turns a CRI log into Lines. At the end of the input Next returns
// io.EOF but keeps any incomplete data, so a caller that follows a growing
// file can call Next again later.
type Reader struct {
	r       *bufio.Reader
	maxLine int
	raw     []byte // an incomplete raw line (no newline read yet)
	pending *Line  // partial fragments waiting for their final one
}

// NewReader returns a Reader over r; maxLineBytes <= 0 means
// DefaultMaxLineBytes.
func NewReader(r io.Reader, maxLineBytes int) *Reader {
	if maxLineBytes <= 0 {
		maxLineBytes = DefaultMaxLineBytes
	}
	return &Reader{r: bufio.NewReader(r), maxLine: maxLineBytes}
}

// Next returns the next complete line. It returns io.EOF when no complete
// line is available yet, an error wrapping ErrMalformed for a bad line
// (which is skipped), and any other read error as is.
func (r *Reader) Next() (Line, error) {
	for {
		raw, err := r.readRaw()
		if err != nil {
			return Line{}, err
		}
		frag, err := parse(raw)
		if err != nil {
			return Line{}, err
		}
		if line, ok := r.add(frag); ok {
			return line, nil
		}
	}
}

// Flush returns the line the input ended in, if any: pending partial
// fragments, and a last raw line that lacks its newline. The line is
// marked Partial. Use it once the file will not grow any more.
func (r *Reader) Flush() (Line, bool) {
	if len(r.raw) > 0 {
		raw := r.raw
		r.raw = nil
		if frag, err := parse(raw); err == nil {
			frag.final = false
			r.add(frag)
		}
	}
	if r.pending == nil {
		return Line{}, false
	}
	line := *r.pending
	r.pending = nil
	line.Partial = true
	return line, true
}

// readRaw returns the next raw line without its newline.
func (r *Reader) readRaw() ([]byte, error) {
	for {
		chunk, err := r.r.ReadSlice('\n')
		r.raw = append(r.raw, chunk...)
		switch {
		case err == nil:
			raw := r.raw[:len(r.raw)-1]
			r.raw = nil
			return raw, nil
		case errors.Is(err, bufio.ErrBufferFull):
			if len(r.raw) > r.maxLine+64 {
				r.raw = nil
				return nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, r.maxLine)
			}
		default:
			return nil, err
		}
	}
}

// add merges a fragment into the pending line and returns the line once
// it is complete or too long.
func (r *Reader) add(f fragment) (Line, bool) {
	if r.pending == nil {
		r.pending = &Line{Time: f.time, Stream: f.stream}
	}
	p := r.pending
	p.Content = append(p.Content, f.content...)
	if !f.final && len(p.Content) < r.maxLine {
		return Line{}, false
	}
	r.pending = nil
	line := *p
	line.Partial = !f.final
	return line, true
}

type fragment struct {
	time    time.Time
	stream  Stream
	final   bool
	content []byte
}

// parse splits one raw CRI line. The content is copied: raw is reused.
func parse(raw []byte) (fragment, error) {
	var f fragment
	fields := bytes.SplitN(raw, []byte(" "), 4)
	if len(fields) < 3 {
		return f, fmt.Errorf("%w: %q", ErrMalformed, truncate(raw))
	}
	t, err := time.Parse(time.RFC3339Nano, string(fields[0]))
	if err != nil {
		return f, fmt.Errorf("%w: bad time %q: %v", ErrMalformed, truncate(fields[0]), err)
	}
	f.time = t
	switch s := Stream(fields[1]); s {
	case Stdout, Stderr:
		f.stream = s
	default:
		return f, fmt.Errorf("%w: bad stream %q", ErrMalformed, truncate(fields[1]))
	}
	switch string(fields[2]) {
	case "F":
		f.final = true
	case "P":
	default:
		return f, fmt.Errorf("%w: bad tag %q", ErrMalformed, truncate(fields[2]))
	}
	if len(fields) == 4 {
		f.content = bytes.Clone(fields[3])
	}
	return f, nil
}

func truncate(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

// Format renders a line as the kubelet serves it: the content, prefixed
// with the RFC 3339 time and a space when timestamps is set, and followed
// by a newline unless the line is Partial.
func Format(l Line, timestamps bool) []byte {
	var out []byte
	if timestamps {
		out = l.Time.AppendFormat(out, time.RFC3339Nano)
		out = append(out, ' ')
	}
	out = append(out, l.Content...)
	if !l.Partial {
		out = append(out, '\n')
	}
	return out
}

// Tail keeps the last N lines added to it.
type Tail struct {
	n     int
	lines []Line
	next  int
}

// NewTail returns a Tail of n lines (n >= 0).
func NewTail(n int) *Tail {
	return &Tail{n: n}
}

// Add records a line, dropping the oldest when n are kept.
func (t *Tail) Add(l Line) {
	if t.n <= 0 {
		return
	}
	if len(t.lines) < t.n {
		t.lines = append(t.lines, l)
		return
	}
	t.lines[t.next] = l
	t.next = (t.next + 1) % t.n
}

// Lines returns the kept lines, oldest first.
func (t *Tail) Lines() []Line {
	out := make([]Line, 0, len(t.lines))
	out = append(out, t.lines[t.next:]...)
	return append(out, t.lines[:t.next]...)
}
