package plugin

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"rudder/ipam/hostlocal"
)

// HostVethPrefix starts the name of every host veth the plugin creates.
const HostVethPrefix = "rdr"

const aliasPrefix = "rudder/"

// hostVethName is the host end's name: the prefix and 12 hex digits of a
// hash of network, container and interface, so DEL finds it without state
// and two attachments practically never collide (15 bytes, IFNAMSIZ-1).
func hostVethName(network string, a hostlocal.Attachment) string {
	sum := sha256.Sum256([]byte(network + "/" + a.ContainerID + "/" + a.IfName))
	return HostVethPrefix + hex.EncodeToString(sum[:6])
}

// vethAlias is the host end's alias, "rudder/<network>/<container>/<ifname>":
// none of the three may hold a '/'.
func vethAlias(network string, a hostlocal.Attachment) string {
	return aliasPrefix + network + "/" + a.ContainerID + "/" + a.IfName
}

// parseVethAlias reads an alias of network back; ok is false for another
// network's or a foreign alias.
func parseVethAlias(network, alias string) (hostlocal.Attachment, bool) {
	rest, ok := strings.CutPrefix(alias, aliasPrefix+network+"/")
	if !ok {
		return hostlocal.Attachment{}, false
	}
	id, ifname, ok := strings.Cut(rest, "/")
	if !ok || id == "" || ifname == "" || strings.Contains(ifname, "/") {
		return hostlocal.Attachment{}, false
	}
	return hostlocal.Attachment{ContainerID: id, IfName: ifname}, true
}
