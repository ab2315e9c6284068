package stack

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// stubUpstream answers every A query with 192.0.2.1 on 127.0.0.1.
func stubUpstream(t *testing.T) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
			A: net.IPv4(192, 0, 2, 1)})
		_ = w.WriteMsg(m)
	})}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}

// TestStack runs the whole chain of `rudder dns` over real sockets: the
// cluster zone from a fake API, static hosts, the cache, and forwarding
// to a stub upstream.
func TestStack(t *testing.T) {
	client := fake.NewClientset(&corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec:       corev1.ServiceSpec{ClusterIP: "10.96.5.5", ClusterIPs: []string{"10.96.5.5"}, Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}}},
	})
	s, err := New(Config{Listen: []string{"127.0.0.1:0"}, Kubernetes: &Kubernetes{Client: client, TTL: 5 * time.Second},
		Upstreams: []string{stubUpstream(t)}, Cache: true, Hosts: []string{"192.0.2.9 static.test"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	<-s.Started()
	deadline := time.Now().Add(10 * time.Second)
	for !s.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("not ready after 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	addr := s.Addr("udp").String()
	tests := []struct {
		name  string
		rcode int
		want  string // the first answer's data, "" for none
	}{
		{"web.default.svc.cluster.local.", dns.RcodeSuccess, "10.96.5.5"},
		{"WEB.default.svc.cluster.local.", dns.RcodeSuccess, "10.96.5.5"},
		{"nosuch.default.svc.cluster.local.", dns.RcodeNameError, ""},
		{"static.test.", dns.RcodeSuccess, "192.0.2.9"},
		{"www.example.org.", dns.RcodeSuccess, "192.0.2.1"},
		{"www.example.org.", dns.RcodeSuccess, "192.0.2.1"}, // from the cache
	}
	c := &dns.Client{Timeout: 2 * time.Second}
	for _, tt := range tests {
		m := new(dns.Msg)
		m.SetQuestion(tt.name, dns.TypeA)
		r, _, err := c.Exchange(m, addr)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if r.Rcode != tt.rcode {
			t.Errorf("%s: rcode %s, want %s", tt.name, dns.RcodeToString[r.Rcode], dns.RcodeToString[tt.rcode])
		}
		got := ""
		if len(r.Answer) > 0 {
			if a, ok := r.Answer[0].(*dns.A); ok {
				got = a.A.String()
			}
		}
		if got != tt.want {
			t.Errorf("%s: answer %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestNoListen(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("New without a listen address: no error")
	}
}
