package kubelet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"

	"rudder/controlplane/kubelet/prober"
)

// Config is a kubelet's node and its local paths.
type Config struct {
	NodeName       string
	NodeIPs        []string // InternalIPs, first one is the host IP of pods
	NodeLabels     map[string]string
	RegisterTaints []corev1.Taint
	Port           int                 // the HTTPS API port reported in daemonEndpoints
	Capacity       corev1.ResourceList // cpu, memory, pods, ephemeral-storage
	// RootDir holds per-pod directories (volumes, generated files).
	RootDir string
	// ClusterDNS and ClusterDomain build ClusterFirst resolv.conf files.
	ClusterDNS    []string
	ClusterDomain string
	// ResolvConf is the node's resolver configuration (dnsPolicy Default).
	ResolvConf string
	// LeaseDuration is the node Lease's duration (40 s); it is renewed
	// every quarter of it, as upstream.
	LeaseDuration time.Duration
	Logger        *slog.Logger
}

// PodNetwork attaches pods to the cluster network (Network over CNI).
type PodNetwork interface {
	Ready(ctx context.Context) error
	Setup(ctx context.Context, pod *corev1.Pod) ([]string, error)
	Teardown(ctx context.Context, pod *corev1.Pod) error
	NetNSPath(pod *corev1.Pod) string
}

// Deps are the kubelet's collaborators.
type Deps struct {
	Client  kubernetes.Interface
	Runtime Runtime
	Network PodNetwork
	Clock   clock.WithTicker // nil: the real clock
	// Registerer receives the kubelet's metrics (nil: not registered).
	Registerer prometheus.Registerer
}

// Kubelet runs the pods bound to one node.
type Kubelet struct {
	cfg      Config
	client   kubernetes.Interface
	rt       Runtime
	net      PodNetwork
	clock    clock.WithTicker
	log      *slog.Logger
	recorder record.EventRecorder
	probes   *prober.Manager
	metrics  *metrics

	pods     corelisters.PodLister
	services corelisters.ServiceLister

	mu      sync.Mutex
	netErr  error
	workers map[types.UID]*podWorker
	// finished are pods whose worker completed their deletion; events
	// about them until their Delete start no new worker.
	finished map[types.UID]bool
	stopping bool
	wg       sync.WaitGroup
	ctx      context.Context // Run's, for the pod workers
}

// New checks the configuration and returns a kubelet; Run starts it.
func New(cfg Config, deps Deps) (*Kubelet, error) {
	if cfg.NodeName == "" || deps.Client == nil || deps.Runtime == nil {
		return nil, errors.New("kubelet: node name, client and runtime are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.LeaseDuration <= 0 {
		cfg.LeaseDuration = 40 * time.Second
	}
	if cfg.ClusterDomain == "" {
		cfg.ClusterDomain = "cluster.local"
	}
	if cfg.ResolvConf == "" {
		cfg.ResolvConf = "/etc/resolv.conf"
	}
	if cfg.RootDir == "" {
		return nil, errors.New("kubelet: root dir is required")
	}
	clk := deps.Clock
	if clk == nil {
		clk = clock.RealClock{}
	}
	k := &Kubelet{cfg: cfg, client: deps.Client, rt: deps.Runtime, net: deps.Network, clock: clk,
		log: cfg.Logger.With("component", "kubelet"), workers: map[types.UID]*podWorker{},
		finished: map[types.UID]bool{}}
	if deps.Network != nil {
		k.netErr = errors.New("network not checked yet")
	}
	k.metrics = newMetrics(deps.Registerer, k)
	var err error
	if k.probes, err = k.newProbeManager(); err != nil {
		return nil, err
	}
	return k, nil
}

// Run registers the node and syncs pods until ctx ends. Containers are
// stopped only when their pods go away, not when the kubelet stops
// (a restarted kubelet restarts them).
func (k *Kubelet) Run(ctx context.Context) error {
	if err := os.MkdirAll(filepath.Join(k.cfg.RootDir, "pods"), 0o755); err != nil {
		return fmt.Errorf("create kubelet dir: %w", err)
	}
	k.ctx = ctx
	k.checkNetwork(ctx)
	if err := k.registerNode(ctx); err != nil {
		return err
	}
	bc := record.NewBroadcaster(record.WithContext(ctx))
	bc.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: k.client.CoreV1().Events("")})
	defer bc.Shutdown()
	k.recorder = bc.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "kubelet", Host: k.cfg.NodeName})

	podInf := informers.NewSharedInformerFactoryWithOptions(k.client, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", k.cfg.NodeName).String()
	}))
	svcInf := informers.NewSharedInformerFactory(k.client, 0)
	pi := podInf.Core().V1().Pods()
	k.pods = pi.Lister()
	k.services = svcInf.Core().V1().Services().Lister()
	if _, err := pi.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { k.dispatch(o) },
		UpdateFunc: func(_, o any) { k.dispatch(o) },
		DeleteFunc: func(o any) { k.dispatch(o) },
	}); err != nil {
		return fmt.Errorf("watch pods: %w", err)
	}
	podInf.Start(ctx.Done())
	svcInf.Start(ctx.Done())
	podInf.WaitForCacheSync(ctx.Done())
	svcInf.WaitForCacheSync(ctx.Done())
	k.cleanupOrphans(ctx)

	go k.nodeLoop(ctx)
	<-ctx.Done()
	k.mu.Lock()
	k.stopping = true
	k.mu.Unlock()
	podInf.Shutdown()
	svcInf.Shutdown()
	k.wg.Wait()
	k.probes.Stop()
	return nil
}

// dispatch wakes (or starts) the worker of the pod an event is about.
func (k *Kubelet) dispatch(o any) {
	if d, ok := o.(cache.DeletedFinalStateUnknown); ok {
		o = d.Obj
	}
	pod, ok := o.(*corev1.Pod)
	if !ok {
		return
	}
	_, deleted := o.(cache.DeletedFinalStateUnknown)
	if !deleted {
		cur, err := k.pods.Pods(pod.Namespace).Get(pod.Name)
		deleted = err != nil || cur.UID != pod.UID
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.finished[pod.UID] {
		if deleted {
			delete(k.finished, pod.UID)
		}
		return
	}
	w := k.workers[pod.UID]
	if w == nil {
		if k.stopping {
			return
		}
		w = newPodWorker(k, pod)
		k.workers[pod.UID] = w
		k.wg.Add(1)
		go func() {
			defer k.wg.Done()
			done := w.run()
			k.mu.Lock()
			delete(k.workers, pod.UID)
			if done {
				k.finished[pod.UID] = true
			}
			k.mu.Unlock()
		}()
	}
	w.poke()
}

// pod is the current cached version of a pod, nil once it is gone.
func (k *Kubelet) pod(namespace, name string, uid types.UID) *corev1.Pod {
	p, err := k.pods.Pods(namespace).Get(name)
	if err != nil || p.UID != uid {
		return nil
	}
	return p
}

// cleanupOrphans removes network namespaces and processes of pods that
// are no longer bound to this node (deleted while the kubelet was down).
func (k *Kubelet) cleanupOrphans(ctx context.Context) {
	dir := filepath.Join(k.cfg.RootDir, "pods")
	entries, _ := os.ReadDir(dir)
	known := map[types.UID]bool{}
	pods, _ := k.pods.List(labels.Everything())
	for _, p := range pods {
		known[p.UID] = true
	}
	for _, e := range entries {
		uid := types.UID(e.Name())
		if known[uid] || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		orphan := &corev1.Pod{}
		orphan.UID, orphan.Name, orphan.Namespace = uid, string(uid), "orphan"
		k.log.Info("removing orphaned pod", "uid", uid)
		_ = k.rt.KillPod(string(uid))
		if k.net != nil {
			if err := k.net.Teardown(ctx, orphan); err != nil {
				k.log.Warn("orphan network teardown", "uid", uid, "err", err)
			}
		}
		_ = os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}
