package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"rudder/controlplane/kubelet/runtime"
)

// newContainerInitCommand is the hidden `container-init` command: the
// process runtime re-executes rudder with it to set up a container's
// namespaces and mounts before it becomes the container's program.
func newContainerInitCommand() *cobra.Command {
	return &cobra.Command{
		Use:    "container-init",
		Short:  "Set up a container and execute its program (used by the kubelet's runtime)",
		Hidden: true,
		Args:   cobra.NoArgs,
		// No logging setup: the output of this process is the container's.
		PersistentPreRunE: func(*cobra.Command, []string) error { return nil },
		RunE: func(*cobra.Command, []string) error {
			err := runtime.RunInit() // returns only on failure
			fmt.Fprintln(os.Stderr, "container-init:", err)
			os.Exit(runtime.InitExitCode)
			return nil
		},
	}
}
