package cniconf

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

func TestSubnetFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run", "subnet.env")
	s := Subnet{Network: netip.MustParsePrefix("10.244.0.0/16"), PodCIDR: netip.MustParsePrefix("10.244.1.0/24"), MTU: 1450, IPMasq: true}
	changed, err := WriteSubnet(path, s)
	if err != nil || !changed {
		t.Fatalf("first write: changed %v, err %v", changed, err)
	}
	got, _ := os.ReadFile(path)
	want := "RUDDER_NETWORK=10.244.0.0/16\nRUDDER_SUBNET=10.244.1.1/24\nRUDDER_MTU=1450\nRUDDER_IPMASQ=true\n"
	if string(got) != want {
		t.Errorf("subnet file:\n%s\nwant:\n%s", got, want)
	}
	if back, err := ParseSubnet(got); err != nil || back != s {
		t.Errorf("ParseSubnet = %+v, %v; want %+v", back, err, s)
	}
	if changed, err := WriteSubnet(path, s); err != nil || changed {
		t.Errorf("same content rewritten: changed %v, err %v", changed, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the file (no temporaries left)", len(entries))
	}
}

func TestConflist(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "net.d")
	c := Conflist{Bridge: "cni0", SubnetFile: "/run/rudder/subnet.env", DataDir: "/var/lib/cni/networks", IPMasq: true}
	if _, err := WriteConflist(dir, DefaultConflistName, c); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, DefaultConflistName))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		CNIVersion string           `json:"cniVersion"`
		Name       string           `json:"name"`
		Plugins    []map[string]any `json:"plugins"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("conflist is not JSON: %v\n%s", err, data)
	}
	p := doc.Plugins[0]
	if doc.CNIVersion != "1.1.0" || doc.Name != "rudder" || len(doc.Plugins) != 1 ||
		p["type"] != "rudder" || p["bridge"] != "cni0" || p["subnetFile"] != "/run/rudder/subnet.env" ||
		p["dataDir"] != "/var/lib/cni/networks" || p["hairpinMode"] != true || p["ipMasq"] != true {
		t.Errorf("conflist does not follow the contract:\n%s", data)
	}
}
