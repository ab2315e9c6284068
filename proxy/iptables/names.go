package iptables

import (
	"crypto/sha256"
	"encoding/base32"
	"net/netip"

	"rudder/proxy/model"
)

// Tables this backend writes.
const (
	tableNAT    = "nat"
	tableFilter = "filter"
)

// Chains shared by all service ports.
const (
	chainServices       = "RUDDER-SERVICES"
	chainNodePorts      = "RUDDER-NODEPORTS"
	chainPostrouting    = "RUDDER-POSTROUTING"
	chainMarkMasq       = "RUDDER-MARK-MASQ"
	chainOffCluster     = "RUDDER-OFF-CLUSTER"
	chainExternal       = "RUDDER-EXTERNAL-SERVICES"
	chainForward        = "RUDDER-FORWARD"
	chainPrefix         = "RUDDER-"
	masqMark            = "0x4000"
	masqMarkMatch       = "0x4000/0x4000"
	maxChainNameLength  = 28
	chainHashCharacters = 16
)

// Per-service-port chain kinds.
const (
	kindSVC = "RUDDER-SVC-" // cluster endpoints
	kindSVL = "RUDDER-SVL-" // local endpoints (externalTrafficPolicy: Local)
	kindEXT = "RUDDER-EXT-" // external frontends
	kindSEP = "RUDDER-SEP-" // one endpoint
)

// portChain names a per-service-port chain of the given kind.
func portChain(kind string, name model.ServicePortName) string {
	return kind + hashString(name.String())
}

// sepChain names the chain of one endpoint of one service port.
func sepChain(name model.ServicePortName, ep netip.AddrPort) string {
	return kindSEP + hashString(name.String()+"|"+ep.String())
}

func hashString(s string) string {
	sum := sha256.Sum256([]byte(s))
	enc := base32.StdEncoding.EncodeToString(sum[:])
	return enc[:chainHashCharacters]
}
