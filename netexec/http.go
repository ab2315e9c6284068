package netexec

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// maxDelay bounds the delay query parameter.
const maxDelay = 10 * time.Minute

// maxBytes bounds /bytes/{n}.
const maxBytes = 1 << 20

// bytesChunk is the text /bytes/{n} repeats: 64 bytes, one line.
const bytesChunk = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-\n"

// endpoints is the text of "/".
const endpoints = `netexec endpoints (each takes ?delay=<duration>, e.g. delay=200ms, to wait before answering):
/                 this list
/hostname         the hostname
/clientip         the client's ip:port
/echo?msg=X       X (&code=N answers with HTTP status N)
/bytes/N          N bytes of text (0 to 1048576), e.g. /bytes/1024 for benchmarks
/healthz          200 "ok"; 503 after /healthz/fail or once shutting down
/healthz/fail     make /healthz fail
/healthz/ok       make /healthz succeed again
/shutdown         exit with code 0
/exit?code=N      exit with code N (0-255)
/dial?host=H&port=P&request=R&protocol=http|udp|tcp&tries=N
                  send R to H:P N times, answer {"responses":[...],"errors":[...]}
`

func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, _ *http.Request) { writeText(w, http.StatusOK, endpoints) })
	mux.HandleFunc("/hostname", func(w http.ResponseWriter, _ *http.Request) { writeText(w, http.StatusOK, s.hostname) })
	mux.HandleFunc("/clientip", func(w http.ResponseWriter, r *http.Request) { writeText(w, http.StatusOK, r.RemoteAddr) })
	mux.HandleFunc("/echo", handleEcho)
	mux.HandleFunc("/bytes/{n}", handleBytes)
	mux.HandleFunc("/healthz", s.handleHealthz)
	mux.HandleFunc("/healthz/fail", func(w http.ResponseWriter, _ *http.Request) {
		s.failing.Store(true)
		writeText(w, http.StatusOK, "healthz now failing")
	})
	mux.HandleFunc("/healthz/ok", func(w http.ResponseWriter, _ *http.Request) {
		s.failing.Store(false)
		writeText(w, http.StatusOK, "healthz now ok")
	})
	mux.HandleFunc("/shutdown", func(w http.ResponseWriter, _ *http.Request) { s.exitAfterReply(w, 0) })
	mux.HandleFunc("/exit", s.handleExit)
	mux.HandleFunc("/dial", s.handleDial)
	return s.logRequests(withDelay(mux))
}

func handleEcho(w http.ResponseWriter, r *http.Request) {
	code := http.StatusOK
	if c := r.URL.Query().Get("code"); c != "" {
		n, err := strconv.Atoi(c)
		if err != nil || n < 200 || n > 599 {
			writeText(w, http.StatusBadRequest, fmt.Sprintf("bad code %q: want an HTTP status 200-599", c))
			return
		}
		code = n
	}
	writeText(w, code, r.URL.Query().Get("msg"))
}

// handleBytes answers n bytes of text/plain without allocating them: the
// constant chunk repeated, so a benchmark measures the path, not netexec.
func handleBytes(w http.ResponseWriter, r *http.Request) {
	v := r.PathValue("n")
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > maxBytes {
		writeText(w, http.StatusBadRequest, fmt.Sprintf("bad size %q: want 0 to %d bytes", v, maxBytes))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(n))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	for n > 0 {
		k := min(n, len(bytesChunk))
		if _, err := io.WriteString(w, bytesChunk[:k]); err != nil {
			return
		}
		n -= k
	}
}

func (s *Server) handleHealthz(w http.ResponseWriter, _ *http.Request) {
	switch {
	case s.draining.Load():
		writeText(w, http.StatusServiceUnavailable, "shutting down")
	case s.failing.Load():
		writeText(w, http.StatusServiceUnavailable, "failing")
	default:
		writeText(w, http.StatusOK, "ok")
	}
}

func (s *Server) handleExit(w http.ResponseWriter, r *http.Request) {
	c := r.URL.Query().Get("code")
	code, err := strconv.Atoi(c)
	if err != nil || code < 0 || code > 255 {
		writeText(w, http.StatusBadRequest, fmt.Sprintf("bad code %q: want 0-255", c))
		return
	}
	s.exitAfterReply(w, code)
}

// exitAfterReply answers, pushes the answer to the client, then asks Run to stop.
func (s *Server) exitAfterReply(w http.ResponseWriter, code int) {
	writeText(w, http.StatusOK, fmt.Sprintf("exiting with code %d", code))
	_ = http.NewResponseController(w).Flush()
	s.requestExit(code)
}

// withDelay sleeps for the request's delay parameter before serving it.
func withDelay(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.URL.Query().Get("delay"); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 || d > maxDelay {
				writeText(w, http.StatusBadRequest, fmt.Sprintf("bad delay %q: want a duration from 0 to %s, e.g. 200ms", v, maxDelay))
				return
			}
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
			case <-r.Context().Done():
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// statusRecorder remembers the status code for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		s.log.Debug("http request", "method", r.Method, "uri", r.RequestURI, "client", r.RemoteAddr,
			"status", rec.status, "duration", time.Since(start))
	})
}

func writeText(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}
