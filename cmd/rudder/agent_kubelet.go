package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"rudder/controlplane/kubelet"
	"rudder/controlplane/kubelet/runtime"
	"rudder/controlplane/kubelet/server"
)

// agentKubelet builds the kubelet with the process runtime, CNI through
// libcni and the HTTPS API.
func agentKubelet(fl *agentFlags, rc *rest.Config, client kubernetes.Interface, reg *prometheus.Registry) (agentPart, error) {
	if err := installCNIPlugin(fl); err != nil {
		return agentPart{}, err
	}
	root := filepath.Join(fl.dataDir, "kubelet")
	network := kubelet.NewNetwork(kubelet.NetworkConfig{ConfDir: fl.cniConfDir, BinDirs: []string{fl.cniBinDir},
		CacheDir: filepath.Join(fl.dataDir, "cni-cache"), NetNSDir: fl.netnsDir})
	rt, err := newAgentRuntime(fl, root)
	if err != nil {
		return agentPart{}, err
	}
	capacity, err := withCapacityOverrides(nodeCapacity(fl.maxPods, fl.dataDir), fl.capacity)
	if err != nil {
		return agentPart{}, err
	}
	k, err := kubelet.New(kubelet.Config{
		NodeName: fl.nodeName, NodeIPs: []string{fl.nodeIP}, Port: fl.kubeletPort,
		Capacity: capacity, RootDir: root, NodeLabels: fl.nodeLabels,
		ClusterDNS: []string{podDNS(fl)}, ClusterDomain: fl.domain, ResolvConf: fl.resolvConf,
		LeaseDuration: time.Duration(fl.leaseSecs) * time.Second,
		Logger:        slog.Default(),
	}, kubelet.Deps{Client: client, Runtime: rt, Network: network, Registerer: reg})
	if err != nil {
		return agentPart{}, err
	}
	srv, err := newKubeletServer(fl, rc, k, reg)
	if err != nil {
		return agentPart{}, err
	}
	run := func(ctx context.Context) error {
		return runAgentParts(ctx, []agentPart{{name: "kubelet", run: k.Run}, {name: "kubelet API", run: srv.Run}})
	}
	return agentPart{name: "kubelet", run: run}, nil
}

// installCNIPlugin copies the rudder-cni binary into the CNI bin dir as
// "rudder" (atomically, so a running ADD never sees half a file).
func installCNIPlugin(fl *agentFlags) error {
	src := fl.cniPlugin
	if src == "none" {
		return nil
	}
	if src == "" {
		self, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find rudder-cni: %w", err)
		}
		src = filepath.Join(filepath.Dir(self), "rudder-cni")
	}
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("install CNI plugin (--cni-plugin): %w", err)
	}
	defer in.Close()
	if err := os.MkdirAll(fl.cniBinDir, 0o755); err != nil {
		return fmt.Errorf("install CNI plugin: %w", err)
	}
	tmp, err := os.CreateTemp(fl.cniBinDir, ".rudder-*")
	if err != nil {
		return fmt.Errorf("install CNI plugin: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		return fmt.Errorf("install CNI plugin: %w", err)
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		return fmt.Errorf("install CNI plugin: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("install CNI plugin: %w", err)
	}
	return os.Rename(tmp.Name(), filepath.Join(fl.cniBinDir, "rudder"))
}

// nodeCapacity is what this machine offers: its CPUs, memory, the pod
// limit and the data dir's file system.
func nodeCapacity(maxPods int, dataDir string) corev1.ResourceList {
	rl := corev1.ResourceList{
		corev1.ResourceCPU:  *resource.NewQuantity(int64(goruntime.NumCPU()), resource.DecimalSI),
		corev1.ResourcePods: *resource.NewQuantity(int64(maxPods), resource.DecimalSI),
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemTotal:" {
				if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil {
					rl[corev1.ResourceMemory] = *resource.NewQuantity(kb*1024, resource.BinarySI)
				}
			}
		}
	}
	if size, ok := fsSize(dataDir); ok {
		rl[corev1.ResourceEphemeralStorage] = *resource.NewQuantity(size, resource.BinarySI)
	}
	return rl
}

// newKubeletServer is the kubelet's HTTPS API: client certificates of
// the cluster CA (the one the server's certificate chains to) only.
func newKubeletServer(fl *agentFlags, rc *rest.Config, k *kubelet.Kubelet, reg *prometheus.Registry) (*server.Server, error) {
	pool, err := clusterCAPool(rc)
	if err != nil {
		return nil, err
	}
	return server.New(server.Config{
		Addr: net.JoinHostPort("", strconv.Itoa(fl.kubeletPort)), NodeName: fl.nodeName, NodeIPs: []net.IP{net.ParseIP(fl.nodeIP)},
		CertDir: filepath.Join(fl.dataDir, "kubelet", "pki"), ClientCAs: pool, Provider: k,
		Logger: slog.Default().With("component", "kubelet-api"), Registry: reg,
	})
}

// clusterCAPool is the CA bundle of the API server's client configuration.
func clusterCAPool(rc *rest.Config) (*x509.CertPool, error) {
	pem := rc.TLSClientConfig.CAData
	if len(pem) == 0 && rc.TLSClientConfig.CAFile != "" {
		var err error
		if pem, err = os.ReadFile(rc.TLSClientConfig.CAFile); err != nil {
			return nil, fmt.Errorf("read cluster CA: %w", err)
		}
	}
	if len(pem) == 0 {
		return nil, errors.New("kubelet API: no cluster CA to verify the API server's client certificate (set --certificate-authority)")
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("kubelet API: cluster CA bundle has no certificates")
	}
	return pool, nil
}

// newAgentRuntime is the process runtime: containers are processes of
// this machine, started through `rudder container-init`, below the pods'
// cgroup.
func newAgentRuntime(fl *agentFlags, root string) (kubelet.Runtime, error) {
	initArgv, err := runtime.DefaultInitArgv()
	if err != nil {
		return nil, err
	}
	cg := fl.cgroupRoot
	switch cg {
	case "none":
		cg = ""
	case "":
		mnt, err := runtime.FindCgroup2Mount()
		if err != nil {
			slog.Warn("no cgroup v2 mount: pods run without cgroups (a kubelet restart cannot find leftover processes)", "err", err)
		} else {
			cg = filepath.Join(mnt, "rudder", fl.nodeName)
		}
	}
	var images runtime.ImageMap
	if fl.imageMap != "" {
		if images, err = runtime.LoadImageMap(fl.imageMap); err != nil {
			return nil, fmt.Errorf("--image-map: %w", err)
		}
	}
	r, err := runtime.New(runtime.Config{LogDir: filepath.Join(root, "logs"), StateDir: filepath.Join(root, "runtime"),
		CgroupRoot: cg, InitArgv: initArgv, RudderBinary: initArgv[0], Images: images,
		Logger: slog.Default().With("component", "runtime")})
	if err != nil {
		return nil, err
	}
	return kubelet.ProcessRuntime{R: r}, nil
}

// withCapacityOverrides applies --capacity to what the machine offers.
func withCapacityOverrides(rl corev1.ResourceList, over map[string]string) (corev1.ResourceList, error) {
	for name, v := range over {
		q, err := resource.ParseQuantity(v)
		if err != nil {
			return nil, fmt.Errorf("--capacity %s=%s: %w", name, v, err)
		}
		rl[corev1.ResourceName(name)] = q
	}
	return rl, nil
}

// podDNS is the nameserver of ClusterFirst pods: the node-local cache when
// it runs, else the cluster DNS Service.
func podDNS(fl *agentFlags) string {
	if fl.nodeLocalDNS {
		return fl.nodeLocalIP
	}
	return fl.clusterDNS
}
