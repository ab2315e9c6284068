package main

import (
	"github.com/spf13/cobra"

	"rudder/proxy/iptables"
	"rudder/proxy/nftables"
	"rudder/proxy/proxier"
)

// newProxyCommandWithBackends registers the proxy's backends and the
// iptables flavour flag (--iptables-backend auto|legacy|nft).
func newProxyCommandWithBackends() *cobra.Command {
	iptMode := new(string)
	backends := map[string]proxier.NewBackendFunc{
		"nftables": func(c proxier.BackendConfig) (proxier.Backend, error) {
			return nftables.New(nftables.Config{Logger: c.Logger})
		},
		"iptables": func(c proxier.BackendConfig) (proxier.Backend, error) {
			return iptables.New(iptables.Config{Mode: iptables.Mode(*iptMode), Logger: c.Logger})
		},
	}
	cmd := newProxyCommand(backends)
	cmd.Flags().StringVar(iptMode, "iptables-backend", "auto", "iptables flavour for --mode iptables: auto, legacy or nft")
	return cmd
}
