package healthcheck

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
)

func TestServiceHandler(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	proxy := NewHealthz(clk, time.Minute)
	h := &serviceHandler{name: types.NamespacedName{Namespace: "ns", Name: "web"}, proxy: proxy}
	for _, tt := range []struct {
		endpoints int
		step      time.Duration
		code      int
		healthy   bool
	}{
		{0, 0, 503, true},
		{2, 0, 200, true},
		{2, 2 * time.Minute, 503, false}, // the proxy stopped syncing
	} {
		h.endpoints.Store(int64(tt.endpoints))
		clk.Step(tt.step)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		want := fmt.Sprintf(`{"service":{"namespace":"ns","name":"web"},"localEndpoints":%d,"serviceProxyHealthy":%v}`+"\n", tt.endpoints, tt.healthy)
		if rec.Code != tt.code || rec.Body.String() != want {
			t.Errorf("endpoints=%d: got %d %s, want %d %s", tt.endpoints, rec.Code, rec.Body, tt.code, want)
		}
		if w := rec.Header().Get("X-Load-Balancing-Endpoint-Weight"); w != fmt.Sprint(tt.endpoints) {
			t.Errorf("weight header %q", w)
		}
	}
}

// fakeListen opens loopback listeners on random ports and remembers
// which health-check port each stands for.
type fakeListen struct {
	mu    sync.Mutex
	addrs map[uint16]string
	fail  map[uint16]bool
}

func (f *fakeListen) listen(port uint16) (net.Listener, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail[port] {
		return nil, fmt.Errorf("port %d in use", port)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f.addrs[port] = l.Addr().String()
	return l, nil
}

func (f *fakeListen) get(t *testing.T, port uint16) (int, map[string]any) {
	t.Helper()
	f.mu.Lock()
	addr := f.addrs[port]
	f.mu.Unlock()
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var body map[string]any
	_ = json.Unmarshal(b, &body)
	return resp.StatusCode, body
}

func TestServersUpdate(t *testing.T) {
	fl := &fakeListen{addrs: map[uint16]string{}, fail: map[uint16]bool{32002: true}}
	s := NewServers(Config{Listen: fl.listen})
	defer s.Close()
	web := types.NamespacedName{Namespace: "ns", Name: "web"}
	db := types.NamespacedName{Namespace: "ns", Name: "db"}

	err := s.Update([]Service{{web, 32001, 1}, {db, 32002, 3}})
	if err == nil {
		t.Error("Update hid the listen error")
	}
	if got := s.Ports(); !slices.Equal(got, []uint16{32001}) {
		t.Errorf("ports %v, want [32001]", got)
	}
	code, body := fl.get(t, 32001)
	if code != 200 || body["localEndpoints"] != 1.0 {
		t.Errorf("web: %d %v", code, body)
	}

	fl.fail = nil
	if err := s.Update([]Service{{web, 32001, 0}, {db, 32002, 3}}); err != nil {
		t.Fatal(err)
	}
	if code, _ := fl.get(t, 32001); code != 503 {
		t.Errorf("web without local endpoints: %d, want 503", code)
	}
	if code, _ := fl.get(t, 32002); code != 200 {
		t.Errorf("db after retry: %d, want 200", code)
	}

	if err := s.Update([]Service{{db, 32002, 3}}); err != nil {
		t.Fatal(err)
	}
	if got := s.Ports(); !slices.Equal(got, []uint16{32002}) {
		t.Errorf("ports %v, want [32002]", got)
	}
	if code, _ := fl.get(t, 32001); code != 0 {
		t.Errorf("removed server still answers %d", code)
	}
}
