package forward

import (
	"net/netip"
	"testing"
)

func TestInPlace(t *testing.T) {
	c := Config{ClusterCIDR: netip.MustParsePrefix("10.244.0.0/16")}
	good := []string{"-N RUDDER-FORWARD", "-A RUDDER-FORWARD -s 10.244.0.0/16 -j ACCEPT", "-A RUDDER-FORWARD -d 10.244.0.0/16 -j ACCEPT"}
	if !c.chainInPlace(good) {
		t.Error("complete chain not recognised")
	}
	if c.chainInPlace(good[:2]) || c.chainInPlace(append(good, "-A RUDDER-FORWARD -j DROP")) {
		t.Error("incomplete or extended chain taken as in place")
	}
	fwd := []string{"-P FORWARD DROP", `-A FORWARD -m comment --comment "rudder: accept pod traffic" -j RUDDER-FORWARD`}
	if !c.jumpInPlace(fwd) || c.jumpInPlace(fwd[:1]) {
		t.Error("jump detection wrong")
	}
}
