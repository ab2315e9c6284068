package healthcheck

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func getCode(t *testing.T, h http.Handler) (int, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	return rec.Code, body
}

func TestHealthz(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	h := NewHealthz(clk, time.Minute)
	steps := []struct {
		name   string
		do     func()
		status int
	}{
		{"fresh start", func() {}, 200},
		{"no sync within the timeout of start", func() { clk.Step(61 * time.Second) }, 503},
		{"a sync succeeds", h.Synced, 200},
		{"syncs keep succeeding", func() { clk.Step(50 * time.Second); h.Synced(); clk.Step(50 * time.Second) }, 200},
		{"syncs stop succeeding", func() { clk.Step(11 * time.Second) }, 503},
	}
	for _, s := range steps {
		s.do()
		code, body := getCode(t, h)
		if code != s.status {
			t.Errorf("%s: status %d, want %d", s.name, code, s.status)
		}
		if body["currentTime"] != clk.Now().Format(time.RFC3339) {
			t.Errorf("%s: currentTime %v, want %v", s.name, body["currentTime"], clk.Now())
		}
	}
}
