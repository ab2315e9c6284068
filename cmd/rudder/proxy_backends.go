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
	cmd := newProxyCommand(proxyBackends(iptMode))
	cmd.Flags().StringVar(iptMode, "iptables-backend", "auto", "iptables flavour for --mode iptables: auto, legacy or nft")
	return cmd
}

// proxyBackends are the service proxy's backends by mode; iptMode is read
// when the iptables backend is built.
func proxyBackends(iptMode *string) map[string]proxier.NewBackendFunc {
	return map[string]proxier.NewBackendFunc{
		"nftables": func(c proxier.BackendConfig) (proxier.Backend, error) {
			return nftables.New(nftables.Config{Logger: c.Logger})
		},
		"iptables": func(c proxier.BackendConfig) (proxier.Backend, error) {
			return iptables.New(iptables.Config{Mode: iptables.Mode(*iptMode), Logger: c.Logger})
		},
	}
}
