package harness

import (
	"context"
	"fmt"

	"rudder/lab/netns"
)

// Baseline addresses: a /24 of the benchmarking range per topology,
// used only inside namespaces this run creates.
const (
	vethNet     = "198.19.1."
	bridgeNet   = "198.19.2."
	underlayNet = "198.19.3."
	vxlanNet    = "198.19.4."
)

// baselines measures the machine's own limits: loopback in one
// namespace, a raw veth pair, and two namespaces on a plain bridge.
func (b *bench) baselines(ctx context.Context) {
	for _, t := range []struct {
		id, name string
		build    func() (client, server *netns.NS, addr string, err error)
	}{
		{"loopback", "loopback (one namespace)", b.loopback},
		{"raw-veth", "raw veth pair", b.rawVeth},
		{"bridge", "plain bridge", b.bridge},
		{"hand-vxlan", "hand-built VXLAN over a veth", b.handVXLAN},
	} {
		b.prog.Step("%s: building", t.name)
		client, server, addr, err := t.build()
		if err != nil {
			b.skip(t.name, err)
			continue
		}
		stop, err := b.startEcho(ctx, server)
		if err != nil {
			b.skip(t.name, err)
			continue
		}
		b.measure(ctx, endpoint{id: t.id, name: t.name, group: "baseline", client: client, server: server, addr: addr})
		stop()
	}
}

func (b *bench) ns(suffix string) (*netns.NS, error) {
	return netns.Create(b.prefix + "-" + suffix)
}

func (b *bench) loopback() (*netns.NS, *netns.NS, string, error) {
	n, err := b.ns("lo")
	return n, n, "127.0.0.1", err
}

func (b *bench) rawVeth() (*netns.NS, *netns.NS, string, error) {
	c, err := b.ns("vc")
	if err != nil {
		return nil, nil, "", err
	}
	s, err := b.ns("vs")
	if err != nil {
		return nil, nil, "", err
	}
	if err := netns.Veth(c, "eth0", vethNet+"1/24", s, "eth0", vethNet+"2/24"); err != nil {
		return nil, nil, "", err
	}
	return c, s, vethNet + "2", nil
}

// bridge joins a client and a server namespace through a bridge in a
// third one, as pods hang off cni0.
func (b *bench) bridge() (*netns.NS, *netns.NS, string, error) {
	var nss [3]*netns.NS
	for i, suffix := range []string{"bc", "bs", "br"} {
		n, err := b.ns(suffix)
		if err != nil {
			return nil, nil, "", err
		}
		nss[i] = n
	}
	c, s, sw := nss[0], nss[1], nss[2]
	if _, err := sw.Run("ip", "link", "add", "br0", "type", "bridge"); err != nil {
		return nil, nil, "", err
	}
	if _, err := sw.Run("ip", "link", "set", "br0", "up"); err != nil {
		return nil, nil, "", err
	}
	for i, end := range []*netns.NS{c, s} {
		port := fmt.Sprintf("p%d", i)
		if err := netns.Veth(sw, port, "", end, "eth0", fmt.Sprintf("%s%d/24", bridgeNet, i+1)); err != nil {
			return nil, nil, "", err
		}
		if _, err := sw.Run("ip", "link", "set", port, "master", "br0"); err != nil {
			return nil, nil, "", err
		}
	}
	return c, s, bridgeNet + "2", nil
}

// handVXLAN is the overlay alone: a VXLAN device on each end of a veth,
// no bridge, no pods, no rules — the floor under rudder's vxlan path.
func (b *bench) handVXLAN() (*netns.NS, *netns.NS, string, error) {
	c, err := b.ns("xc")
	if err != nil {
		return nil, nil, "", err
	}
	s, err := b.ns("xs")
	if err != nil {
		return nil, nil, "", err
	}
	if err := netns.Veth(c, "eth0", underlayNet+"1/24", s, "eth0", underlayNet+"2/24"); err != nil {
		return nil, nil, "", err
	}
	for i, end := range []*netns.NS{c, s} {
		local, remote := underlayNet+fmt.Sprint(i+1), underlayNet+fmt.Sprint(2-i)
		for _, cmd := range [][]string{
			{"ip", "link", "add", "vx0", "type", "vxlan", "id", "42", "dstport", "4789", "local", local, "remote", remote, "dev", "eth0"},
			{"ip", "addr", "add", vxlanNet + fmt.Sprint(i+1) + "/24", "dev", "vx0"},
			{"ip", "link", "set", "vx0", "up"},
		} {
			if _, err := end.Run(cmd[0], cmd[1:]...); err != nil {
				return nil, nil, "", err
			}
		}
	}
	return c, s, vxlanNet + "2", nil
}
