package nftables

import (
	"crypto/sha256"
	"encoding/base32"
	"strings"

	"rudder/proxy/model"
)

// Names of the table's fixed objects.
const (
	chainFilterPrerouting = "filter-prerouting"
	chainFilterOutput     = "filter-output"
	chainFilterForward    = "filter-forward"
	chainNATPrerouting    = "nat-prerouting"
	chainNATOutput        = "nat-output"
	chainNATPostrouting   = "nat-postrouting"
	chainNoEndpoints      = "no-endpoints"
	chainServices         = "services"
	chainMasquerading     = "masquerading"
	chainMarkMasq         = "mark-for-masquerade"

	mapServiceIPs       = "service-ips"
	mapServiceNodePorts = "service-nodeports"
	setNodePortIPs      = "nodeport-ips"
	setClusterCIDRs     = "cluster-cidrs"
	setNoEndpoints      = "no-endpoint-services"
	setNoEndpointPorts  = "no-endpoint-nodeports"
	setHairpin          = "hairpin"

	// masqMark is the meta mark bit asking postrouting to masquerade.
	masqMark = "0x00004000"
)

// Prefixes of per service-port objects.
const (
	prefixService  = "svc-" // all cluster endpoints
	prefixLocal    = "svl-" // local endpoints (eTP=Local)
	prefixExternal = "ext-" // external frontends
	prefixAffinity = "aff-" // affinity set of one endpoint
)

// hashName is a short stable hash, safe in nft identifiers.
func hashName(s string) string {
	sum := sha256.Sum256([]byte(s))
	enc := base32.StdEncoding.EncodeToString(sum[:])
	return strings.ToLower(enc[:16])
}

func serviceHash(n model.ServicePortName) string { return hashName(n.String()) }

func endpointHash(n model.ServicePortName, ep model.Endpoint) string {
	return hashName(n.String() + "/" + ep.Addr.String())
}

// nftProto is the inet_proto spelling of a model protocol.
func nftProto(p model.Protocol) string { return strings.ToLower(string(p)) }
