package main

import (
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/spf13/cobra"
)

// digOptions are `rudder dig`'s arguments, parsed dig-style.
type digOptions struct {
	server     string // host:port; empty: the first nameserver of resolvConf
	name       string
	qtype      uint16
	tcp        bool
	short      bool
	search     bool
	reverse    bool
	timeout    time.Duration
	resolvConf string
}

// newDigCommand is `rudder dig`: a small dig for pods and nodes that have
// none (the process runtime's images are the host's binaries).
func newDigCommand() *cobra.Command {
	o := &digOptions{qtype: dns.TypeA, timeout: 2 * time.Second, resolvConf: "/etc/resolv.conf"}
	return &cobra.Command{
		Use:   "dig [@server[:port]] [-x] name [type] [+tcp] [+short] [+search]",
		Short: "Look a name up, dig-style (+search applies resolv.conf's search list and ndots)",
		Long: `dig asks one DNS server one question and prints the reply as dig does.
Without @server it asks the first nameserver of /etc/resolv.conf. +search
tries the name with resolv.conf's search domains (honouring ndots) and prints
the first answer that is not NXDOMAIN, as a pod's resolver would. It exits
non-zero when no server answers; an NXDOMAIN is an answer.`,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.parse(args); err != nil {
				return err
			}
			return o.run(cmd.OutOrStdout())
		},
	}
}

func (o *digOptions) parse(args []string) error {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-h" || a == "--help":
			return fmt.Errorf("usage: rudder dig [@server[:port]] [-x] name [type] [+tcp] [+short] [+search]")
		case strings.HasPrefix(a, "@"):
			o.server = a[1:]
		case a == "-x":
			o.reverse = true
		case a == "+tcp":
			o.tcp = true
		case a == "+short":
			o.short = true
		case a == "+search":
			o.search = true
		case strings.HasPrefix(a, "+"):
			return fmt.Errorf("dig: unknown option %s", a)
		case o.name != "":
			t, ok := dns.StringToType[strings.ToUpper(a)]
			if !ok {
				return fmt.Errorf("dig: unknown type %q", a)
			}
			o.qtype = t
		default:
			o.name = a
		}
	}
	if o.name == "" {
		return fmt.Errorf("dig: no name to look up")
	}
	if o.reverse {
		rev, err := dns.ReverseAddr(o.name)
		if err != nil {
			return fmt.Errorf("dig -x %s: %w", o.name, err)
		}
		o.name, o.qtype = rev, dns.TypePTR
	}
	return nil
}

func (o *digOptions) run(out io.Writer) error {
	conf, err := dns.ClientConfigFromFile(o.resolvConf)
	if err != nil && (o.server == "" || o.search) {
		return fmt.Errorf("dig: read %s: %w", o.resolvConf, err)
	}
	server := o.server
	if server == "" {
		if len(conf.Servers) == 0 {
			return fmt.Errorf("dig: no nameserver in %s", o.resolvConf)
		}
		server = conf.Servers[0]
	}
	if _, _, err := net.SplitHostPort(server); err != nil {
		server = net.JoinHostPort(server, "53")
	}
	names := []string{dns.Fqdn(o.name)}
	if o.search && !strings.HasSuffix(o.name, ".") {
		names = conf.NameList(o.name)
	}
	var reply *dns.Msg
	for _, n := range names {
		if reply, err = o.exchange(server, n); err != nil {
			return err
		}
		if reply.Rcode != dns.RcodeNameError {
			break
		}
	}
	if o.short {
		for _, rr := range reply.Answer {
			fmt.Fprintln(out, strings.TrimPrefix(rr.String(), rr.Header().String()))
		}
		return nil
	}
	fmt.Fprintln(out, reply.String())
	return nil
}

func (o *digOptions) exchange(server, name string) (*dns.Msg, error) {
	c := &dns.Client{Timeout: o.timeout, Net: "udp"}
	if o.tcp {
		c.Net = "tcp"
	}
	m := new(dns.Msg)
	m.SetQuestion(name, o.qtype)
	m.SetEdns0(1232, false)
	r, _, err := c.Exchange(m, server)
	if err == nil && r.Truncated && !o.tcp {
		c.Net = "tcp"
		r, _, err = c.Exchange(m, server)
	}
	if err != nil {
		return nil, fmt.Errorf("dig: ask %s for %s: %w", server, name, err)
	}
	return r, nil
}
