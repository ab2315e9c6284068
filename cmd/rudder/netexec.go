package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"rudder/netexec"
)

type netexecFlags struct {
	httpPort, udpPort, tcpPort int
	graceful                   time.Duration
}

// newNetexecCommand is `rudder netexec`: the test workload (agnhost netexec's role).
func newNetexecCommand() *cobra.Command {
	fl := &netexecFlags{}
	cmd := &cobra.Command{
		Use:   "netexec",
		Short: "Run the test workload: HTTP diagnostics, UDP and TCP echo",
		Long: `netexec serves HTTP endpoints for network tests (GET / lists them: /hostname,
/clientip, /echo, /healthz, /dial, /exit...), a UDP echo (--udp-port) and a TCP line
echo (--tcp-port); a "hostname" request to either echo answers the hostname.
On SIGTERM /healthz fails at once and serving goes on for --graceful-shutdown.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := fl.config()
			if err != nil {
				return err
			}
			srv, err := netexec.New(cfg)
			if err != nil {
				return err
			}
			err = srv.Run(cmd.Context())
			if ee := (*netexec.ExitError)(nil); errors.As(err, &ee) {
				os.Exit(ee.Code)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.IntVar(&fl.httpPort, "http-port", 8080, "HTTP port")
	f.IntVar(&fl.udpPort, "udp-port", 8081, "UDP echo port (0: off)")
	f.IntVar(&fl.tcpPort, "tcp-port", 0, "TCP echo port (0: off)")
	f.DurationVar(&fl.graceful, "graceful-shutdown", 0, "on SIGTERM, fail /healthz and keep serving this long before stopping (0: stop at once)")
	return cmd
}

func (fl *netexecFlags) config() (netexec.Config, error) {
	cfg := netexec.Config{GracefulShutdown: fl.graceful, Logger: slog.Default()}
	if fl.httpPort < 1 || fl.httpPort > 65535 {
		return cfg, fmt.Errorf("--http-port %d: want 1-65535", fl.httpPort)
	}
	cfg.HTTPAddr = portAddr(fl.httpPort)
	for _, p := range []struct {
		name string
		port int
		addr *string
	}{{"--udp-port", fl.udpPort, &cfg.UDPAddr}, {"--tcp-port", fl.tcpPort, &cfg.TCPAddr}} {
		if p.port < 0 || p.port > 65535 {
			return cfg, fmt.Errorf("%s %d: want 0-65535", p.name, p.port)
		}
		if p.port > 0 {
			*p.addr = portAddr(p.port)
		}
	}
	if fl.graceful < 0 {
		return cfg, fmt.Errorf("--graceful-shutdown %s: must not be negative", fl.graceful)
	}
	return cfg, nil
}

func portAddr(port int) string { return net.JoinHostPort("", strconv.Itoa(port)) }
