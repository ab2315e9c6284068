package plugin

import (
	"path/filepath"
	"regexp"
	"strings"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
)

// namePattern is the spec's rule for container IDs and network names.
var namePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$`)

// checkArgs validates the CNI_* environment of a verb (code 4, naming the
// variable). skel checks presence; this also checks shape, so the verbs
// can be called directly.
func checkArgs(verb string, a *skel.CmdArgs) *types.Error {
	perAttachment := verb == "ADD" || verb == "DEL" || verb == "CHECK"
	if perAttachment && !namePattern.MatchString(a.ContainerID) {
		return cniError(types.ErrInvalidEnvironmentVariables,
			"CNI_CONTAINERID=%q is invalid: it must start with a letter or digit, followed by letters, digits, '_', '.' or '-'", a.ContainerID)
	}
	if perAttachment {
		if msg := badIfName(a.IfName); msg != "" {
			return cniError(types.ErrInvalidEnvironmentVariables, "CNI_IFNAME=%q is invalid: %s", a.IfName, msg)
		}
	}
	if verb == "ADD" || verb == "CHECK" {
		if a.Netns == "" || !filepath.IsAbs(a.Netns) {
			return cniError(types.ErrInvalidEnvironmentVariables,
				"CNI_NETNS=%q is invalid: it must be the absolute path of the pod's network namespace (e.g. /run/netns/NAME)", a.Netns)
		}
	}
	if msg := badCNIArgs(a.Args); msg != "" {
		return cniError(types.ErrInvalidEnvironmentVariables, "CNI_ARGS=%q is invalid: %s", a.Args, msg)
	}
	return nil
}

func badIfName(name string) string {
	switch {
	case name == "":
		return "it is empty"
	case len(name) > 15:
		return "longer than 15 bytes"
	case name == "." || name == "..":
		return "it must not be . or .."
	case strings.ContainsAny(name, "/: \t\n"):
		return "it must not contain '/', ':' or whitespace"
	}
	return ""
}

func badCNIArgs(args string) string {
	if args == "" {
		return ""
	}
	for _, pair := range strings.Split(args, ";") {
		k, _, ok := strings.Cut(pair, "=")
		if !ok || k == "" {
			return "want KEY=VALUE pairs separated by ';', got " + pair
		}
	}
	return ""
}
