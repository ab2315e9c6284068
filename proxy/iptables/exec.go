package iptables

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// Mode is the iptables flavour: the legacy x_tables kernel interface or
// iptables-nft over nf_tables.
type Mode string

// Modes.
const (
	ModeAuto   Mode = "auto"
	ModeLegacy Mode = "legacy"
	ModeNFT    Mode = "nft"
)

// Executor runs one iptables tool with stdin and returns its stdout.
// The real one is Exec; tests use Fake.
type Executor interface {
	Run(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error)
}

// Exec runs the tools as processes, optionally through a prefix such as
// {"nsenter", "--net=/run/netns/x", "--"}.
type Exec struct {
	Prefix []string
}

// Run implements Executor.
func (e Exec) Run(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
	argv := append(append(append([]string{}, e.Prefix...), name), args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s: %w: %s", name, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

func restoreCmd(m Mode) string { return "iptables-" + string(m) + "-restore" }
func saveCmd(m Mode) string    { return "iptables-" + string(m) + "-save" }

// detectMode picks the flavour the system already uses, as kube-proxy's
// iptables wrapper does: the one holding more rules, nft on a tie.
func detectMode(ctx context.Context, ex Executor) (Mode, error) {
	legacy, lerr := ex.Run(ctx, nil, saveCmd(ModeLegacy))
	nft, nerr := ex.Run(ctx, nil, saveCmd(ModeNFT))
	switch {
	case lerr != nil && nerr != nil:
		return "", fmt.Errorf("detect iptables mode: %w", nerr)
	case nerr != nil:
		return ModeLegacy, nil
	case lerr != nil:
		return ModeNFT, nil
	}
	if countRules(legacy) > countRules(nft) {
		return ModeLegacy, nil
	}
	return ModeNFT, nil
}

func countRules(save []byte) int {
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(save))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "-A ") {
			n++
		}
	}
	return n
}
