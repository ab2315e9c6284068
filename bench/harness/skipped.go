package harness

import (
	"errors"
	"os"
)

// skipUnavailable lists the paths this build or this kernel cannot run,
// so the report shows them instead of silently leaving them out.
func (b *bench) skipUnavailable() {
	ipvs := errors.New("IPVS backend not built yet (its issue); this kernel has no IPVS either")
	if _, err := os.Stat("/proc/net/ip_vs"); err != nil {
		ipvs = errors.New("this kernel has no IPVS (no /proc/net/ip_vs, no modules to load); the IPVS backend is tested in a VM")
	}
	b.skip("pod→ClusterIP→pod, ipvs", ipvs)
	b.skip("pod→ClusterIP→pod, ebpf", errors.New("the eBPF backend does not exist yet (its issue)"))
	b.skip("ingress→pod", errors.New("the ingress controller does not exist yet (issue 9)"))
}
