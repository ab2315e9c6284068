package plugin

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"rudder/ipam/hostlocal"
)

var unitVersions = []string{"0.3.1", "0.4.0", "1.0.0", "1.1.0"}

func TestAddWiresThePodAndReportsIt(t *testing.T) {
	for _, v := range unitVersions {
		t.Run(v, func(t *testing.T) {
			e := newUnitEnv(t)
			e.dp.AddNetns("/run/netns/a")
			stdin := conf(t, v, map[string]any{"dns": map[string]any{"nameservers": []string{"10.96.0.10"}},
				"routes": []map[string]string{{"dst": "192.168.0.0/16"}}})
			res, err := e.add(cmdArgs("ctr-a", "/run/netns/a", stdin))
			if err != nil {
				t.Fatal(err)
			}
			host := hostVethName("rudder", hostlocal.Attachment{ContainerID: "ctr-a", IfName: "eth0"})
			want := strings.Join([]string{
				"bridge cni0 mtu=1450 up=true addrs=[10.244.1.1/24]",
				"masquerade 10.244.1.0/24 !10.244.0.0/16 \"rudder: masquerade pods of network rudder leaving 10.244.0.0/16\"",
				"pod /run/netns/a eth0 mtu=1450 up=true addrs=[10.244.1.2/24] routes=[0.0.0.0/0 via 10.244.1.1, 192.168.0.0/16 via 10.244.1.1]",
				"sysctl net/bridge/bridge-nf-call-iptables=1",
				"sysctl net/ipv4/ip_forward=1",
				"veth " + host + " master=cni0 hairpin=true mtu=1450 alias=rudder/rudder/ctr-a/eth0 peer=/run/netns/a:eth0",
			}, "\n")
			if got := e.dp.Dump(); got != want {
				t.Fatalf("dataplane:\n%s\nwant:\n%s", got, want)
			}
			got := fmt.Sprintf("%d ifaces %s/%s/%s sandbox=%q mtu=%d; ip %s gw %s on %d; %d routes; dns %v",
				len(res.Interfaces), res.Interfaces[0].Name, res.Interfaces[1].Name, res.Interfaces[2].Name,
				res.Interfaces[2].Sandbox, res.Interfaces[2].Mtu, &res.IPs[0].Address, res.IPs[0].Gateway,
				*res.IPs[0].Interface, len(res.Routes), res.DNS.Nameservers)
			wantRes := fmt.Sprintf("3 ifaces cni0/%s/eth0 sandbox=%q mtu=1450; ip 10.244.1.2/24 gw 10.244.1.1 on 2; 2 routes; dns [10.96.0.10]",
				host, "/run/netns/a")
			if v == "0.3.1" || v == "0.4.0" {
				wantRes = strings.Replace(wantRes, "mtu=1450", "mtu=0", 1) // older results carry no MTU
			}
			if got != wantRes {
				t.Fatalf("result: %s\nwant:   %s", got, wantRes)
			}
		})
	}
}

func TestAddRefusesASecondAddOfTheSameAttachment(t *testing.T) {
	e := newUnitEnv(t)
	e.dp.AddNetns("/run/netns/a")
	args := cmdArgs("ctr-a", "/run/netns/a", conf(t, "1.1.0", nil))
	if _, err := e.add(args); err != nil {
		t.Fatal(err)
	}
	before := e.dp.Dump()
	_, err := e.add(args)
	if code(err) != CodeAttachmentExists || !strings.Contains(err.Error(), "container ctr-a interface eth0 holds 10.244.1.2") {
		t.Fatalf("second ADD: %v", err)
	}
	if e.dp.Dump() != before {
		t.Fatalf("refused ADD changed the dataplane:\n%s", e.dp.Dump())
	}
	if list, _ := e.store().List(); len(list) != 1 {
		t.Fatalf("reservations after refused ADD: %v", list)
	}
}

func TestAddUndoesEverythingOnFailure(t *testing.T) {
	for _, method := range []string{"EnsureBridge", "EnsureSysctls", "EnsureMasquerade", "CreateVeth", "ConfigurePod"} {
		t.Run(method, func(t *testing.T) {
			e := newUnitEnv(t)
			e.dp.AddNetns("/run/netns/a")
			e.dp.Fail(method, errors.New("boom"))
			_, err := e.add(cmdArgs("ctr-a", "/run/netns/a", conf(t, "1.1.0", nil)))
			if err == nil || !strings.Contains(err.Error(), "add container ctr-a interface eth0 to network rudder") || !strings.Contains(err.Error(), "boom") {
				t.Fatalf("ADD: %v", err)
			}
			if list, _ := e.store().List(); len(list) != 0 {
				t.Fatalf("reservation left: %v", list)
			}
			if d := e.dp.Dump(); strings.Contains(d, "veth ") || strings.Contains(d, "pod ") {
				t.Fatalf("veth left:\n%s", d)
			}
		})
	}
}

func TestAddReplacesAHostVethLeftByACrash(t *testing.T) {
	e := newUnitEnv(t)
	e.dp.AddNetns("/run/netns/a")
	att := hostlocal.Attachment{ContainerID: "ctr-a", IfName: "eth0"}
	e.dp.AddHostVeth(hostVethName("rudder", att), vethAlias("rudder", att))
	if _, err := e.add(cmdArgs("ctr-a", "/run/netns/a", conf(t, "1.1.0", nil))); err != nil {
		t.Fatal(err)
	}
}

func TestAddExhaustedRange(t *testing.T) {
	e := newUnitEnv(t)
	e.files[testSubnetFile] = "RUDDER_SUBNET=10.244.1.1/30\n" // one address besides the gateway
	for i, want := range []uint{0, CodeRangeExhausted} {
		ns := fmt.Sprintf("/run/netns/p%d", i)
		e.dp.AddNetns(ns)
		_, err := e.add(cmdArgs(fmt.Sprintf("c%d", i), ns, conf(t, "1.1.0", nil)))
		if code(err) != want {
			t.Fatalf("ADD %d: %v, want code %d", i, err, want)
		}
		if want != 0 && !strings.Contains(err.Error(), "no IP addresses available in range 10.244.1.0/30 (1 usable addresses, all in use)") {
			t.Fatalf("message: %v", err)
		}
	}
}

func TestDelIsIdempotentAndNeedsNoNetns(t *testing.T) {
	e := newUnitEnv(t)
	e.dp.AddNetns("/run/netns/a")
	stdin := conf(t, "0.4.0", nil)
	if _, err := e.add(cmdArgs("ctr-a", "/run/netns/a", stdin)); err != nil {
		t.Fatal(err)
	}
	e.dp.RemoveNetns("/run/netns/a")
	delete(e.files, testSubnetFile) // netd gone too: DEL still works
	for i := 0; i < 2; i++ {
		if err := e.p.Del(cmdArgs("ctr-a", "", stdin)); err != nil {
			t.Fatalf("DEL %d: %v", i, err)
		}
	}
	if list, _ := e.store().List(); len(list) != 0 {
		t.Fatalf("reservation left: %v", list)
	}
	if d := e.dp.Dump(); strings.Contains(d, "veth ") {
		t.Fatalf("veth left:\n%s", d)
	}
}

func TestGCRemovesWhatIsNotValid(t *testing.T) {
	e := newUnitEnv(t)
	for _, id := range []string{"keep", "drop"} {
		e.dp.AddNetns("/run/netns/" + id)
		if _, err := e.add(cmdArgs(id, "/run/netns/"+id, conf(t, "1.1.0", nil))); err != nil {
			t.Fatal(err)
		}
	}
	crashed := hostlocal.Attachment{ContainerID: "crashed", IfName: "eth0"}
	if _, err := e.store().Reserve(crashed, mustPrefix(t, "10.244.1.200/32").Addr(), "0"); err != nil {
		t.Fatal(err)
	}
	e.dp.AddHostVeth("rdrforeign", "someone else's") // not ours: kept
	e.dp.AddHostVeth(hostVethName("other", crashed), vethAlias("other", crashed))
	stdin := conf(t, "1.1.0", map[string]any{"cni.dev/valid-attachments": []hostlocal.Attachment{{ContainerID: "keep", IfName: "eth0"}}})
	if err := e.p.GC(cmdArgs("", "", stdin)); err != nil {
		t.Fatal(err)
	}
	list, _ := e.store().List()
	if len(list) != 1 || list[0].Attachment.ContainerID != "keep" {
		t.Fatalf("reservations after GC: %v", list)
	}
	d := e.dp.Dump()
	if strings.Contains(d, "/drop/") || !strings.Contains(d, "rudder/rudder/keep/eth0") ||
		!strings.Contains(d, "rdrforeign") || !strings.Contains(d, "rudder/other/crashed") {
		t.Fatalf("veths after GC (drop gone; keep, a foreign one and another network's kept):\n%s", d)
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name    string
		breakIt func(e *unitEnv)
		want    []string
	}{
		{name: "healthy"},
		{name: "route deleted", breakIt: func(e *unitEnv) {
			e.dp.EditPod("/run/netns/a", "eth0", func(p *PodState) { p.Routes = nil })
		}, want: []string{"route 0.0.0.0/0 via 10.244.1.1 is missing on eth0"}},
		{name: "mtu and address", breakIt: func(e *unitEnv) {
			e.dp.EditPod("/run/netns/a", "eth0", func(p *PodState) { p.MTU, p.Addrs = 1500, nil })
		}, want: []string{"MTU of eth0 is 1500, want 1450", "address 10.244.1.2/24 is missing on eth0"}},
		{name: "host veth gone", breakIt: func(e *unitEnv) {
			e.dp.AddHostVeth("x", "")
			_ = e.dp.DeleteVeth(hostVethName("rudder", hostlocal.Attachment{ContainerID: "ctr-a", IfName: "eth0"}))
		}, want: []string{"is missing"}},
		{name: "reservation gone", breakIt: func(e *unitEnv) {
			_ = e.store().ReleaseByID(hostlocal.Attachment{ContainerID: "ctr-a", IfName: "eth0"})
		}, want: []string{"IPAM holds no reservation of 10.244.1.2 for this attachment"}},
		{name: "mtu changed by netd", breakIt: func(e *unitEnv) {
			e.files[testSubnetFile] = strings.Replace(testSubnetEnv, "1450", "1400", 1)
		}, want: []string{"MTU of eth0 is 1450, want 1400"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newUnitEnv(t)
			e.dp.AddNetns("/run/netns/a")
			res, err := e.add(cmdArgs("ctr-a", "/run/netns/a", conf(t, "1.1.0", nil)))
			if err != nil {
				t.Fatal(err)
			}
			if tc.breakIt != nil {
				tc.breakIt(e)
			}
			err = e.p.Check(cmdArgs("ctr-a", "/run/netns/a", conf(t, "1.1.0", map[string]any{"prevResult": res})))
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("CHECK: %v", err)
				}
				return
			}
			if code(err) != CodeCheckFailed {
				t.Fatalf("CHECK: %v, want code %d", err, CodeCheckFailed)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("CHECK said %q, want it to say %q", err, w)
				}
			}
		})
	}
}

func TestStatusReady(t *testing.T) {
	e := newUnitEnv(t)
	if err := e.p.Status(cmdArgs("", "", conf(t, "1.1.0", nil))); err != nil {
		t.Fatal(err)
	}
}
