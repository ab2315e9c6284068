package runtime

import (
	"fmt"
	"os"
	"testing"
)

// TestMain lets the test binary act as container-init, as the rudder
// binary does in production.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "container-init" {
		err := RunInit()
		fmt.Fprintln(os.Stderr, "container-init:", err)
		os.Exit(InitExitCode)
	}
	os.Exit(m.Run())
}
