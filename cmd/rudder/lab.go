package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"rudder/lab"
)

// newLabCommand is `rudder lab`: a multi-node cluster on this machine out
// of network namespaces.
func newLabCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "Run a multi-node cluster on this machine in network namespaces (needs root)",
	}
	cmd.AddCommand(newLabUpCommand(), newLabDownCommand(), newLabStatusCommand())
	return cmd
}

func newLabUpCommand() *cobra.Command {
	cfg := lab.Config{WaitReady: true}
	addons := ""
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start the API server and one agent per node namespace, wait for the nodes, apply the addons",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Out = cmd.OutOrStdout()
			if cfg.Out == nil {
				cfg.Out = os.Stdout
			}
			cfg.AddonsDir = addons
			if !cmd.Flags().Changed("addons") {
				cfg.AddonsDir = defaultAddonsDir()
			}
			l, err := lab.Up(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			l.WriteSummary(cfg.Out)
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Nodes, "nodes", 3, "number of nodes")
	f.StringVar(&cfg.ProxyMode, "proxy-mode", "iptables", "service proxy of the agents: iptables or nftables")
	f.StringVar(&cfg.Overlay, "overlay", "vxlan", "pod network between nodes: vxlan or host-gw")
	f.StringVar(&cfg.Dir, "dir", "./rudder-lab", "directory for the state, logs, data and kubeconfig")
	f.StringVar(&cfg.Underlay, "underlay", "198.18.0.0/24", "subnet of the bridge joining the nodes; the server takes its last address")
	f.StringArrayVar(&cfg.ServerArgs, "server-arg", nil, "extra flag for `rudder server` (repeatable)")
	f.StringArrayVar(&cfg.AgentArgs, "agent-arg", nil, "extra flag for every `rudder agent` (repeatable)")
	f.StringVar(&cfg.CNIPlugin, "cni-plugin", "", "the rudder-cni binary (default: rudder-cni beside this executable)")
	f.StringVar(&addons, "addons", "", "directory of addon manifests *.yaml (default: deploy/ of this executable's checkout, if any)")
	f.DurationVar(&cfg.ReadyTimeout, "timeout", 60*time.Second, "how long to wait for the server and for Ready nodes")
	f.BoolVar(&cfg.KeepOnFailure, "keep-on-failure", false, "leave a lab that failed to come up in place, to read its logs")
	f.BoolVar(&cfg.WaitReady, "wait", true, "wait until every node is Ready, then apply the addons")
	f.StringArrayVar(&cfg.AgentCommand, "agent-command", nil, "run this instead of `rudder agent` on every node, one word per flag (a stand-in for testing the lab)")
	_ = f.MarkHidden("agent-command")
	return cmd
}

// defaultAddonsDir is deploy/ of the checkout this executable was built
// into (bin/rudder → ../deploy), or "" when there is none.
func defaultAddonsDir() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	dir := filepath.Join(filepath.Dir(exe), "..", "deploy")
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return ""
	}
	return filepath.Clean(dir)
}

func newLabDownCommand() *cobra.Command {
	opts := lab.DownOptions{}
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Stop the lab and remove everything it created (also after a crash)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Out = cmd.OutOrStdout()
			_, err := lab.Teardown(cmd.Context(), opts)
			return err
		},
	}
	cmd.Flags().StringVar(&opts.Dir, "dir", "./rudder-lab", "the lab's directory")
	cmd.Flags().StringVar(&opts.Prefix, "prefix", "", "remove the lab named rdr-xxxxxx even without a state file")
	return cmd
}

func newLabStatusCommand() *cobra.Command {
	dir := ""
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the lab's nodes, processes and namespaces",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := lab.GetStatus(cmd.Context(), dir)
			if err != nil {
				return err
			}
			if s == nil {
				fmt.Fprintf(cmd.OutOrStdout(), "no lab in %s\n", dir)
				return nil
			}
			s.Write(cmd.OutOrStdout())
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "./rudder-lab", "the lab's directory")
	return cmd
}
