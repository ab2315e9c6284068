package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"rudder/controlplane/kubelet/server/crilog"
)

// logQuery is a parsed containerLogs query.
type logQuery struct {
	follow, previous bool
	tail             int // -1: all lines
	opts             crilog.Options
}

// parseLogQuery parses the containerLogs query parameters, validated as
// upstream's PodLogOptions are.
func parseLogQuery(v url.Values, now time.Time) (logQuery, error) {
	q := logQuery{tail: -1}
	var err error
	if q.follow, err = boolParam(v, "follow"); err != nil {
		return q, err
	}
	if q.previous, err = boolParam(v, "previous"); err != nil {
		return q, err
	}
	if q.opts.Timestamps, err = boolParam(v, "timestamps"); err != nil {
		return q, err
	}
	if s := v.Get("sinceSeconds"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			return q, fmt.Errorf("sinceSeconds must be a positive integer, got %q", s)
		}
		q.opts.Since = now.Add(-time.Duration(n) * time.Second)
	}
	if s := v.Get("sinceTime"); s != "" {
		if v.Get("sinceSeconds") != "" {
			return q, errors.New("at most one of sinceTime or sinceSeconds may be specified")
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return q, fmt.Errorf("sinceTime must be an RFC 3339 time, got %q", s)
		}
		q.opts.Since = t
	}
	if s := v.Get("tailLines"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return q, fmt.Errorf("tailLines must be a non-negative integer, got %q", s)
		}
		q.tail = n
	}
	if s := v.Get("limitBytes"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			return q, fmt.Errorf("limitBytes must be a positive integer, got %q", s)
		}
		q.opts.LimitBytes = n
	}
	return q, nil
}

// boolParam parses an optional boolean query parameter.
func boolParam(v url.Values, name string) (bool, error) {
	s := v.Get(name)
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("%s must be true or false, got %q", name, s)
	}
	return b, nil
}

// logTarget names one container's log.
type logTarget struct {
	namespace, pod, container, path string
	previous                        bool
}

// serveLogs serves GET /containerLogs/{namespace}/{pod}/{container}.
func (s *Server) serveLogs(w http.ResponseWriter, r *http.Request) {
	t := logTarget{namespace: r.PathValue("namespace"), pod: r.PathValue("pod"), container: r.PathValue("container")}
	q, err := parseLogQuery(r.URL.Query(), time.Now())
	if err != nil {
		http.Error(w, "bad log options: "+err.Error(), http.StatusBadRequest)
		return
	}
	t.previous = q.previous
	t.path, err = s.cfg.Provider.LogFile(t.namespace, t.pod, t.container, q.previous)
	if err != nil {
		s.writeProviderError(w, r, "find container log", err)
		return
	}
	f, err := os.Open(t.path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			err = fmt.Errorf("log of container %s in pod %s/%s: %w", t.container, t.namespace, t.pod, ErrNotFound)
		}
		s.writeProviderError(w, r, "open container log", err)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	out := newFlushWriter(w)
	err = s.copyLog(r.Context(), t, q, crilog.NewReader(f, 0), crilog.NewWriter(out, q.opts), out.Flush)
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	if err != nil && !errors.Is(err, crilog.ErrLimitReached) && r.Context().Err() == nil {
		s.log.Debug("kubelet server: log stream ended", "path", t.path, "err", err)
	}
}

// copyLog writes the selected lines, then follows the file if asked.
// flush sends what was written so far to the client.
func (s *Server) copyLog(ctx context.Context, t logTarget, q logQuery, rd *crilog.Reader, lw *crilog.Writer, flush func() error) error {
	if q.tail >= 0 {
		tail := crilog.NewTail(q.tail)
		if err := s.drain(rd, func(l crilog.Line) error { tail.Add(l); return nil }); err != nil {
			return err
		}
		for _, l := range tail.Lines() {
			if err := lw.Write(l); err != nil {
				return err
			}
		}
	} else if err := s.drain(rd, lw.Write); err != nil {
		return err
	}
	if q.follow {
		if err := s.follow(ctx, t, rd, lw, flush); err != nil {
			return err
		}
	}
	if l, ok := rd.Flush(); ok {
		return lw.Write(l)
	}
	return nil
}

// follow writes lines as the file grows, until the container's instance
// exits or restarts (a new file), or ctx ends. Lines are flushed to the
// client after every poll.
func (s *Server) follow(ctx context.Context, t logTarget, rd *crilog.Reader, lw *crilog.Writer, flush func() error) error {
	tick := time.NewTicker(s.cfg.LogPollInterval)
	defer tick.Stop()
	for {
		ended := s.logEnded(t)
		if err := s.drain(rd, lw.Write); err != nil {
			return err
		}
		if err := flush(); err != nil {
			return err
		}
		if ended {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// logEnded reports whether t's file will not grow any more.
func (s *Server) logEnded(t logTarget) bool {
	if t.previous {
		return true
	}
	running, err := s.cfg.Provider.Running(t.namespace, t.pod, t.container)
	if err != nil || !running {
		return true
	}
	current, err := s.cfg.Provider.LogFile(t.namespace, t.pod, t.container, false)
	return err != nil || current != t.path
}

// drain passes every complete line now in the file to fn.
func (s *Server) drain(rd *crilog.Reader, fn func(crilog.Line) error) error {
	for {
		l, err := rd.Next()
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case errors.Is(err, crilog.ErrMalformed):
			s.log.Debug("kubelet server: skip log line", "err", err)
			continue
		case err != nil:
			return fmt.Errorf("read container log: %w", err)
		}
		if err := fn(l); err != nil {
			return err
		}
	}
}

// flushWriter buffers log output and sends it to the client on Flush,
// so that followed logs arrive as they are written without a network
// write per line.
type flushWriter struct {
	*bufio.Writer
	rc *http.ResponseController
}

func newFlushWriter(w http.ResponseWriter) *flushWriter {
	return &flushWriter{Writer: bufio.NewWriterSize(w, 32<<10), rc: http.NewResponseController(w)}
}

// Flush writes the buffer and flushes the HTTP response.
func (f *flushWriter) Flush() error {
	if err := f.Writer.Flush(); err != nil {
		return fmt.Errorf("write log to client: %w", err)
	}
	if err := f.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return fmt.Errorf("flush log to client: %w", err)
	}
	return nil
}
