package kubelet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
	corev1 "k8s.io/api/core/v1"

	"rudder/lab/netns"
)

// Network attaches pods to the cluster network through the first CNI
// configuration (by name) in its configuration directory, the way
// container runtimes do for upstream's kubelet, so any CNI plugin works.
type Network struct {
	confDir  string
	netnsDir string
	cni      *libcni.CNIConfig
}

// NetworkConfig locates the CNI configuration and binaries.
type NetworkConfig struct {
	ConfDir  string   // e.g. /etc/cni/net.d
	BinDirs  []string // e.g. /opt/cni/bin
	CacheDir string   // libcni's result cache
	NetNSDir string   // where pod network namespaces are mounted
}

// NewNetwork returns the CNI client of a node.
func NewNetwork(cfg NetworkConfig) *Network {
	return &Network{confDir: cfg.ConfDir, netnsDir: cfg.NetNSDir,
		cni: libcni.NewCNIConfigWithCacheDir(cfg.BinDirs, cfg.CacheDir, nil)}
}

// config loads the network configuration in use: the first .conflist,
// .conf or .json file in the directory, in lexical order.
func (n *Network) config() (*libcni.NetworkConfigList, error) {
	files, err := libcni.ConfFiles(n.confDir, []string{".conflist", ".conf", ".json"})
	if err != nil {
		return nil, fmt.Errorf("read CNI config dir %s: %w", n.confDir, err)
	}
	slices.Sort(files)
	for _, f := range files {
		var list *libcni.NetworkConfigList
		if strings.HasSuffix(f, ".conflist") {
			list, err = libcni.ConfListFromFile(f)
		} else {
			var conf *libcni.PluginConfig
			if conf, err = libcni.ConfFromFile(f); err == nil {
				list, err = libcni.ConfListFromConf(conf)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("load CNI config %s: %w", f, err)
		}
		return list, nil
	}
	return nil, fmt.Errorf("no CNI configuration in %s", n.confDir)
}

// Ready reports whether pods can be networked: a configuration exists and
// its plugins answer STATUS.
func (n *Network) Ready(ctx context.Context) error {
	list, err := n.config()
	if err != nil {
		return err
	}
	if err := n.cni.GetStatusNetworkList(ctx, list); err != nil {
		return fmt.Errorf("CNI STATUS of %s: %w", list.Name, err)
	}
	return nil
}

// NetNSPath is where a pod's network namespace is mounted.
func (n *Network) NetNSPath(pod *corev1.Pod) string {
	return filepath.Join(n.netnsDir, "pod-"+string(pod.UID))
}

func (n *Network) runtimeConf(pod *corev1.Pod) *libcni.RuntimeConf {
	return &libcni.RuntimeConf{
		ContainerID: string(pod.UID), NetNS: n.NetNSPath(pod), IfName: "eth0",
		Args: [][2]string{{"IgnoreUnknown", "1"}, {"K8S_POD_NAMESPACE", pod.Namespace},
			{"K8S_POD_NAME", pod.Name}, {"K8S_POD_INFRA_CONTAINER_ID", string(pod.UID)}, {"K8S_POD_UID", string(pod.UID)}},
	}
}

// Setup creates the pod's network namespace and runs CNI ADD, or, when
// both already exist (a kubelet restart), returns the cached result.
func (n *Network) Setup(ctx context.Context, pod *corev1.Pod) ([]string, error) {
	list, err := n.config()
	if err != nil {
		return nil, err
	}
	rt := n.runtimeConf(pod)
	if _, err := os.Stat(rt.NetNS); err == nil {
		if res, err := n.cni.GetNetworkListCachedResult(list, rt); err == nil && res != nil {
			if ips, err := resultIPs(res); err == nil && len(ips) > 0 {
				return ips, nil
			}
		}
	} else if _, err := netns.CreateIn(n.netnsDir, filepath.Base(rt.NetNS)); err != nil {
		return nil, fmt.Errorf("create network namespace: %w", err)
	}
	res, err := n.cni.AddNetworkList(ctx, list, rt)
	if err != nil {
		return nil, fmt.Errorf("CNI ADD %s: %w", list.Name, err)
	}
	return resultIPs(res)
}

// resultIPs are the pod's addresses in a CNI result, IPv4 first.
func resultIPs(res types.Result) ([]string, error) {
	r, err := current.NewResultFromResult(res)
	if err != nil {
		return nil, fmt.Errorf("convert CNI result: %w", err)
	}
	var ips []string
	for _, ip := range r.IPs {
		ips = append(ips, ip.Address.IP.String())
	}
	slices.SortStableFunc(ips, func(a, b string) int {
		return strings.Count(a, ":") - strings.Count(b, ":")
	})
	if len(ips) == 0 {
		return nil, errors.New("CNI result has no IP address")
	}
	return ips, nil
}

// Teardown runs CNI DEL and removes the namespace; it is idempotent.
func (n *Network) Teardown(ctx context.Context, pod *corev1.Pod) error {
	rt := n.runtimeConf(pod)
	var errs []error
	if list, err := n.config(); err == nil {
		if err := n.cni.DelNetworkList(ctx, list, rt); err != nil {
			errs = append(errs, fmt.Errorf("CNI DEL: %w", err))
		}
	} else {
		errs = append(errs, err)
	}
	ns := &netns.NS{Name: filepath.Base(rt.NetNS), Path: rt.NetNS}
	if err := ns.Delete(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
