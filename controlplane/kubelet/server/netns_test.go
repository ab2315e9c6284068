package server

import (
	"context"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/containernetworking/plugins/pkg/ns"

	"rudder/lab/netns"
)

func TestDialInNetNS(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a network namespace")
	}
	pod, err := netns.Create(netns.RunPrefix("rdrt") + "-pf")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := pod.Delete(); err != nil {
			t.Error(err)
		}
	})
	// A listener on the namespace's loopback only.
	var ln net.Listener
	podNS, err := ns.GetNS(pod.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer podNS.Close()
	err = podNS.Do(func(ns.NetNS) error {
		var lerr error
		ln, lerr = net.Listen("tcp4", "127.0.0.1:0")
		return lerr
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = io.Copy(c, c)
	}()
	port := int32(ln.Addr().(*net.TCPAddr).Port)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := DialInNetNS(ctx, pod.Path, port)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Used from another goroutine (and thread) than the one that dialled.
	done := make(chan error, 1)
	go func() {
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := conn.Write([]byte("ping")); err != nil {
			done <- err
			return
		}
		buf := make([]byte, 4)
		_, err := io.ReadFull(conn, buf)
		if err == nil && string(buf) != "ping" {
			t.Errorf("echo %q", buf)
		}
		done <- err
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// Nothing listens on the port in the root namespace's view of the pod.
	other, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	otherPort := int32(other.Addr().(*net.TCPAddr).Port)
	other.Close()
	if c, err := DialInNetNS(ctx, pod.Path, otherPort); err == nil && otherPort != port {
		c.Close()
		t.Errorf("dial to a closed port %d succeeded", otherPort)
	}
	if _, err := DialInNetNS(ctx, pod.Path, 0); err == nil {
		t.Error("port 0 accepted")
	}
	if _, err := DialInNetNS(ctx, "/run/netns/rdrt-does-not-exist", port); err == nil {
		t.Error("missing namespace accepted")
	}
}
