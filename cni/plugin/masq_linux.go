package plugin

import (
	"errors"
	"fmt"
	"os/exec"
)

// EnsureMasquerade appends the rule to nat POSTROUTING unless present.
func (n *Netlink) EnsureMasquerade(m Masquerade) error {
	spec := []string{"POSTROUTING", "-s", m.Source.String(), "!", "-d", m.Exclude.String(),
		"-m", "comment", "--comment", m.Comment, "-j", "MASQUERADE"}
	err := n.runIptables(append([]string{"-C"}, spec...))
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 {
		err = n.runIptables(append([]string{"-A"}, spec...))
	}
	return err
}

func (n *Netlink) runIptables(args []string) error {
	args = append([]string{"-w", "5", "-t", "nat"}, args...)
	out, err := exec.Command(n.iptables, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %v: %w (%s)", n.iptables, args, err, out)
	}
	return nil
}
