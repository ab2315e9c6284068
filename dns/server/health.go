package server

import (
	"net/http"
	"strings"
)

type readyFunc struct {
	name string
	f    func() bool
}

// AddReady registers a readiness check (a handler's "synced" for
// instance); /ready answers 200 only when every check returns true.
func (s *Server) AddReady(name string, f func() bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.readyFns = append(s.readyFns, readyFunc{name: name, f: f})
}

// HealthHandler serves /health (200 while serving, 503 before and from
// the start of lameduck on) and /ready (200 when serving and every
// AddReady check passes, else 503 naming the failing ones).
func (s *Server) HealthHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) {
		if !s.Ready() {
			http.Error(w, "not serving", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("OK\n"))
	})
	mux.HandleFunc("/ready", func(w http.ResponseWriter, _ *http.Request) {
		if !s.Ready() {
			http.Error(w, "not serving", http.StatusServiceUnavailable)
			return
		}
		if bad := s.notReady(); len(bad) > 0 {
			http.Error(w, "not ready: "+strings.Join(bad, ", "), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("OK\n"))
	})
	return mux
}

func (s *Server) notReady() []string {
	s.mu.Lock()
	fns := append([]readyFunc(nil), s.readyFns...)
	s.mu.Unlock()
	var bad []string
	for _, r := range fns {
		if !r.f() {
			bad = append(bad, r.name)
		}
	}
	return bad
}
