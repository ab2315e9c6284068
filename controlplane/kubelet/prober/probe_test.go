package prober

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func splitHostPort(t *testing.T, rawURL string) (string, int) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(u.Port())
	return u.Hostname(), port
}

func TestProbeHTTP(t *testing.T) {
	var seen http.Header
	var seenHost string
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		seen, seenHost = r.Header.Clone(), r.Host
		_, _ = w.Write([]byte("fine"))
	})
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusInternalServerError) })
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(strings.Repeat("x", 64<<10))) })
	mux.HandleFunc("/local-redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusFound) })
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	host, port := splitHostPort(t, srv.URL)
	// A redirect to "localhost" leaves the probed host (127.0.0.1).
	mux.HandleFunc("/away", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://localhost:"+strconv.Itoa(port)+"/ok", http.StatusFound)
	})
	tls := httptest.NewTLSServer(mux)
	defer tls.Close()
	_, tlsPort := splitHostPort(t, tls.URL)

	container := &corev1.Container{Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: int32(port)}}}
	get := func(path string, p intstr.IntOrString) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: p}}}
	}
	withHeaders := get("/ok", intstr.FromInt32(int32(port)))
	withHeaders.HTTPGet.HTTPHeaders = []corev1.HTTPHeader{{Name: "Host", Value: "example.test"}, {Name: "X-Probe", Value: "1"}, {Name: "user-agent", Value: "mine"}}
	https := get("/ok", intstr.FromInt32(int32(tlsPort)))
	https.HTTPGet.Scheme = corev1.URISchemeHTTPS
	otherHost := get("/ok", intstr.FromString("http"))
	otherHost.HTTPGet.Host = host

	tests := []struct {
		name    string
		probe   *corev1.Probe
		podIP   string
		want    Result
		wantMsg string
		check   func(t *testing.T, msg string)
	}{
		{name: "200 by number", probe: get("/ok", intstr.FromInt32(int32(port))), want: Success, wantMsg: "fine"},
		{name: "200 by port name", probe: get("/ok", intstr.FromString("http")), want: Success},
		{name: "host field overrides pod IP", probe: otherHost, podIP: "192.0.2.1", want: Success},
		{name: "500", probe: get("/fail", intstr.FromInt32(int32(port))), want: Failure, wantMsg: "HTTP probe failed with statuscode: 500"},
		{name: "same-host redirect followed", probe: get("/local-redirect", intstr.FromInt32(int32(port))), want: Success, wantMsg: "fine"},
		{name: "other-host redirect not followed", probe: get("/away", intstr.FromInt32(int32(port))), want: Warning},
		{name: "redirect loop stops", probe: get("/loop", intstr.FromInt32(int32(port))), want: Failure},
		{name: "body capped", probe: get("/big", intstr.FromInt32(int32(port))), want: Success,
			check: func(t *testing.T, msg string) {
				if len(msg) != maxBody {
					t.Errorf("message length %d, want %d", len(msg), maxBody)
				}
			}},
		{name: "https without verification", probe: https, want: Success, wantMsg: "fine"},
		{name: "unknown port name", probe: get("/ok", intstr.FromString("nope")), want: Unknown},
		{name: "custom headers", probe: withHeaders, want: Success, check: func(t *testing.T, _ string) {
			if seenHost != "example.test" || seen.Get("X-Probe") != "1" || seen.Get("User-Agent") != "mine" {
				t.Errorf("host %q headers %v", seenHost, seen)
			}
		}},
	}
	pr := New(Config{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ip := tc.podIP
			if ip == "" {
				ip = host
			}
			got, msg := pr.Probe(context.Background(), tc.probe, Target{PodIP: ip, Container: container})
			if got != tc.want {
				t.Fatalf("result %v (%q), want %v", got, msg, tc.want)
			}
			if tc.wantMsg != "" && msg != tc.wantMsg {
				t.Errorf("message %q, want %q", msg, tc.wantMsg)
			}
			if tc.check != nil {
				tc.check(t, msg)
			}
		})
	}
}

func TestProbeHTTPDefaultHeaders(t *testing.T) {
	var hdr http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hdr = r.Header.Clone() }))
	defer srv.Close()
	host, port := splitHostPort(t, srv.URL)
	p := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(int32(port))}}}
	if got, msg := New(Config{}).Probe(context.Background(), p, Target{PodIP: host}); got != Success {
		t.Fatalf("got %v %q", got, msg)
	}
	if ua := hdr.Get("User-Agent"); !strings.HasPrefix(ua, "kube-probe/1.") {
		t.Errorf("User-Agent %q", ua)
	}
	if hdr.Get("Accept") != "*/*" {
		t.Errorf("Accept %q", hdr.Get("Accept"))
	}
}

func TestProbeHTTPTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer srv.Close()
	host, port := splitHostPort(t, srv.URL)
	p := &corev1.Probe{TimeoutSeconds: 1, ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(int32(port))}}}
	if got, msg := New(Config{}).Probe(context.Background(), p, Target{PodIP: host}); got != Failure {
		t.Fatalf("got %v %q, want failure", got, msg)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

func TestProbeTCP(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	open := l.Addr().(*net.TCPAddr).Port
	closed := freePort(t)
	tcp := func(port int) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(int32(port))}}}
	}
	tests := []struct {
		name  string
		probe *corev1.Probe
		podIP string
		want  Result
	}{
		{"listening", tcp(open), "127.0.0.1", Success},
		{"refused", tcp(closed), "127.0.0.1", Failure},
		{"port 0", tcp(0), "127.0.0.1", Unknown},
		{"no pod IP", tcp(open), "", Unknown},
	}
	pr := New(Config{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, msg := pr.Probe(context.Background(), tc.probe, Target{PodIP: tc.podIP}); got != tc.want {
				t.Errorf("got %v (%q), want %v", got, msg, tc.want)
			}
		})
	}
}

func TestProbeExec(t *testing.T) {
	exec := func(code int, out string, err error) func(context.Context, []string) (int, []byte, error) {
		return func(context.Context, []string) (int, []byte, error) { return code, []byte(out), err }
	}
	hang := func(ctx context.Context, _ []string) (int, []byte, error) {
		<-ctx.Done()
		return -1, nil, ctx.Err()
	}
	tests := []struct {
		name    string
		cmd     []string
		exec    func(context.Context, []string) (int, []byte, error)
		want    Result
		wantMsg string
	}{
		{"exit 0", []string{"true"}, exec(0, "ok", nil), Success, "ok"},
		{"exit 1", []string{"false"}, exec(1, "bad", nil), Failure, "bad"},
		{"cannot run", []string{"x"}, exec(-1, "", errors.New("no such container")), Unknown, ""},
		{"timeout", []string{"sleep"}, hang, Failure, `command "sleep" timed out after 1s`},
		{"no exec", []string{"true"}, nil, Unknown, ""},
		{"empty command", nil, exec(0, "", nil), Unknown, ""},
	}
	pr := New(Config{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: tc.cmd}}}
			got, msg := pr.Probe(context.Background(), p, Target{Exec: tc.exec})
			if got != tc.want || (tc.wantMsg != "" && msg != tc.wantMsg) {
				t.Errorf("got %v %q, want %v %q", got, msg, tc.want, tc.wantMsg)
			}
		})
	}
}

func TestProbeGRPC(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	hs := health.NewServer()
	hs.SetServingStatus("down", healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(srv, hs)
	go func() { _ = srv.Serve(l) }()
	defer srv.Stop()
	bare, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bareSrv := grpc.NewServer()
	go func() { _ = bareSrv.Serve(bare) }()
	defer bareSrv.Stop()

	svc := func(s string) *string { return &s }
	tests := []struct {
		name    string
		port    int
		service *string
		want    Result
	}{
		{"serving", l.Addr().(*net.TCPAddr).Port, nil, Success},
		{"not serving", l.Addr().(*net.TCPAddr).Port, svc("down"), Failure},
		{"unknown service", l.Addr().(*net.TCPAddr).Port, svc("nope"), Failure},
		{"no health service", bare.Addr().(*net.TCPAddr).Port, nil, Failure},
		{"bad port", 0, nil, Unknown},
	}
	pr := New(Config{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: int32(tc.port), Service: tc.service}}}
			if got, msg := pr.Probe(context.Background(), p, Target{PodIP: "127.0.0.1"}); got != tc.want {
				t.Errorf("got %v (%q), want %v", got, msg, tc.want)
			}
		})
	}
}

func TestResolvePort(t *testing.T) {
	c := &corev1.Container{Ports: []corev1.ContainerPort{{Name: "web", ContainerPort: 8080}}}
	tests := []struct {
		in      intstr.IntOrString
		want    int
		wantErr bool
	}{
		{intstr.FromInt32(80), 80, false},
		{intstr.FromString("web"), 8080, false},
		{intstr.FromString("81"), 81, false},
		{intstr.FromString("nope"), 0, true},
		{intstr.FromInt32(70000), 0, true},
		{intstr.FromInt32(0), 0, true},
	}
	for _, tc := range tests {
		got, err := ResolvePort(tc.in, c)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("ResolvePort(%v) = %d, %v", tc.in.String(), got, err)
		}
	}
}
