// Package healthcheck serves the proxy's health: its own /healthz, which
// turns unhealthy when syncs stop succeeding, and one HTTP server per
// healthCheckNodePort of externalTrafficPolicy=Local services, which
// tells load balancers whether this node has local endpoints.
package healthcheck

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// Healthz tracks the proxy's sync health.
type Healthz struct {
	clk     clock.PassiveClock
	timeout time.Duration

	mu          sync.Mutex
	start       time.Time
	lastSuccess time.Time
}

// NewHealthz reports healthy while a sync succeeded within timeout (and,
// before the first success, for timeout after it is created). A nil clk
// is the real clock. Set timeout to about twice the max sync period.
func NewHealthz(clk clock.PassiveClock, timeout time.Duration) *Healthz {
	if clk == nil {
		clk = clock.RealClock{}
	}
	return &Healthz{clk: clk, timeout: timeout, start: clk.Now()}
}

// Synced records a successful sync.
func (h *Healthz) Synced() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lastSuccess = h.clk.Now()
}

// Healthy tells whether syncs are succeeding, and when the last one did
// (zero: never).
func (h *Healthz) Healthy() (bool, time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ref := h.lastSuccess
	if ref.IsZero() {
		ref = h.start
	}
	return h.clk.Since(ref) <= h.timeout, h.lastSuccess
}

type healthzBody struct {
	LastUpdated time.Time `json:"lastUpdated"`
	CurrentTime time.Time `json:"currentTime"`
}

// ServeHTTP answers 200 when healthy, 503 otherwise, with the last
// successful sync and the current time as JSON.
func (h *Healthz) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	ok, last := h.Healthy()
	code := http.StatusOK
	if !ok {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, healthzBody{LastUpdated: last, CurrentTime: h.clk.Now()})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
