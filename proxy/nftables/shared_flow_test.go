package nftables

import (
	"testing"

	"rudder/proxy/flowtest"
	"rudder/proxy/model"
)

// TestFlowShared runs the packet-flow table every backend must pass.
func TestFlowShared(t *testing.T) {
	flowtest.Run(t, func(st *model.State) flowtest.Tracer {
		fake, _ := syncedFake(t, st)
		checkConsistent(t, fake)
		return newTracer(fake)
	})
}
