//go:build linux

package nftables

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	labnetns "rudder/lab/netns"
	"rudder/proxy/model"
)

// listenIn opens a TCP listener inside ns; the calling goroutine must be
// locked to its thread (inFreshNetns does that). A socket keeps the
// namespace it was created in.
func listenIn(t *testing.T, ns *labnetns.NS, addr string) net.Listener {
	return listenAnswering(t, ns, addr, "ok")
}

// listenAnswering is listenIn writing answer to every connection.
func listenAnswering(t *testing.T, ns *labnetns.NS, addr, answer string) net.Listener {
	t.Helper()
	here, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer here.Close()
	there, err := netns.GetFromPath(ns.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer there.Close()
	if err := netns.Set(there); err != nil {
		t.Fatal(err)
	}
	l, lerr := net.Listen("tcp", addr)
	if err := netns.Set(here); err != nil {
		panic("cannot return to the node namespace: " + err.Error())
	}
	if lerr != nil {
		t.Fatal(lerr)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_, _ = io.WriteString(c, answer)
			c.Close()
		}
	}()
	return l
}

// TestKernelPackets sends real connections from the node through the
// rules to a pod behind a veth: one through a cluster IP, one to a
// service without endpoints, which must be refused at once.
func TestKernelPackets(t *testing.T) {
	inFreshNetns(t, func(node *labnetns.NS) {
		pod, err := labnetns.Create(labnetns.RunPrefix("rdrnftpod"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = pod.Delete() })
		if err := labnetns.Veth(node, "vethpod", "10.244.1.1/24", pod, "eth0", "10.244.1.5/24"); err != nil {
			t.Fatal(err)
		}
		// The service range needs a route for the first lookup; DNAT
		// reroutes to the pod.
		if _, err := node.Run("ip", "route", "add", "10.96.0.0/12", "dev", "vethpod"); err != nil {
			t.Fatal(err)
		}
		listenIn(t, pod, "10.244.1.5:8080")
		for _, port := range []string{"8081", "8082", "8083"} {
			listenAnswering(t, pod, "10.244.1.5:"+port, port)
		}
		st := &model.State{Node: testNode(), Services: []model.ServicePort{
			svc("a", model.TCP, "10.96.0.10", 80, ep("10.244.1.5:8080", true)),
			svc("b", model.TCP, "10.96.0.11", 80),
			svc("c", model.TCP, "10.96.0.12", 80,
				ep("10.244.1.5:8081", true), ep("10.244.1.5:8082", true), ep("10.244.1.5:8083", true)),
			svc("d", model.TCP, "10.96.0.13", 80,
				ep("10.244.1.5:8081", true), ep("10.244.1.5:8082", true), ep("10.244.1.5:8083", true)),
		}}
		st.Services[3].Affinity = &model.Affinity{Timeout: time.Minute}
		b, err := New(Config{})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Sync(context.Background(), st, nil, true); err != nil {
			t.Fatal(err)
		}
		defer b.Cleanup(context.Background())
		c, err := net.DialTimeout("tcp", "10.96.0.10:80", 3*time.Second)
		if err != nil {
			t.Fatalf("cluster IP: %v", err)
		}
		got, err := io.ReadAll(c)
		c.Close()
		if err != nil || string(got) != "ok" {
			t.Errorf("cluster IP answered %q, %v", got, err)
		}
		start := time.Now()
		_, err = net.DialTimeout("tcp", "10.96.0.11:80", 3*time.Second)
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("service without endpoints: %v, want connection refused", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("refusal took %v", d)
		}
		checkSpread(t, "10.96.0.12:80", 300, 3)
		checkSpread(t, "10.96.0.13:80", 30, 1) // affinity pins the node's address
	})
}

// checkSpread makes n connections to addr and wants k endpoints to
// answer, each at least a 1/(k+2) share (20% for 3).
func checkSpread(t *testing.T, addr string, n, k int) {
	t.Helper()
	seen := map[string]int{}
	for range n {
		c, err := net.DialTimeout("tcp", addr, 3*time.Second)
		if err != nil {
			t.Fatalf("dial %s: %v", addr, err)
		}
		got, _ := io.ReadAll(c)
		c.Close()
		seen[string(got)]++
	}
	if len(seen) != k {
		t.Errorf("answers %v, want %d endpoints", seen, k)
	}
	for who, count := range seen {
		if count < n/(k+2) {
			t.Errorf("endpoint %s answered %d of %d (%v)", who, count, n, seen)
		}
	}
	t.Logf("spread over %s: %v", addr, seen)
}
