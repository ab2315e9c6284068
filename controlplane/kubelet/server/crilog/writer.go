package crilog

import (
	"errors"
	"fmt"
	"io"
	"time"
)

// ErrLimitReached is returned by Writer.Write once LimitBytes bytes have
// been written; the caller stops reading.
var ErrLimitReached = errors.New("log byte limit reached")

// Options choose and render the lines a Writer writes, as the
// containerLogs query parameters do.
type Options struct {
	// Since drops lines older than this time (zero: keep all).
	Since time.Time
	// Timestamps prefixes each line with its time.
	Timestamps bool
	// LimitBytes stops the output after this many bytes (<= 0: no limit).
	// The last line is cut at the limit.
	LimitBytes int64
}

// Writer writes log lines to an io.Writer.
type Writer struct {
	w       io.Writer
	opts    Options
	written int64
}

// NewWriter returns a Writer to w.
func NewWriter(w io.Writer, opts Options) *Writer {
	return &Writer{w: w, opts: opts}
}

// Write writes l unless it is older than Since. It returns ErrLimitReached
// once the byte limit is reached, and wraps write errors.
func (w *Writer) Write(l Line) error {
	if !w.opts.Since.IsZero() && l.Time.Before(w.opts.Since) {
		return nil
	}
	if w.opts.LimitBytes > 0 && w.written >= w.opts.LimitBytes {
		return ErrLimitReached
	}
	b := Format(l, w.opts.Timestamps)
	limited := false
	if w.opts.LimitBytes > 0 && w.written+int64(len(b)) >= w.opts.LimitBytes {
		b = b[:w.opts.LimitBytes-w.written]
		limited = true
	}
	n, err := w.w.Write(b)
	w.written += int64(n)
	if err != nil {
		return fmt.Errorf("write log line: %w", err)
	}
	if limited {
		return ErrLimitReached
	}
	return nil
}
