package iperf

import (
	"context"
	"os"
	"testing"
	"time"

	"rudder/lab/netns"
)

// vethPair makes two namespaces joined by a raw veth pair: the physical
// limit for pod-to-pod traffic on this machine.
func vethPair(t testing.TB) (a, b *netns.NS) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	prefix := netns.RunPrefix("rdrt")
	t.Cleanup(func() { _ = netns.Cleanup(prefix) })
	var err error
	if a, err = netns.Create(prefix + "-a"); err != nil {
		t.Fatal(err)
	}
	if b, err = netns.Create(prefix + "-b"); err != nil {
		t.Fatal(err)
	}
	if err := netns.Veth(a, "va", "198.19.255.1/30", b, "vb", "198.19.255.2/30"); err != nil {
		t.Fatal(err)
	}
	return a, b
}

func TestStreamOverRawVeth(t *testing.T) {
	a, b := vethPair(t)
	res, err := Stream(context.Background(), Config{Server: b, Client: a, ServerIP: "198.19.255.2", Duration: time.Second, ServerCPU: -1, ClientCPU: -1})
	if err != nil {
		t.Fatal(err)
	}
	if res.BitsPerSecond <= 0 || res.Bytes <= 0 {
		t.Fatalf("no throughput measured: %+v", res)
	}
	t.Logf("raw veth: %.2f Gbit/s", res.BitsPerSecond/1e9)
}
