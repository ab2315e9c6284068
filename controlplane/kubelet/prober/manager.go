package prober

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
)

// Runner runs one probe; *Prober is the real one, tests stub it.
type Runner interface {
	Probe(ctx context.Context, p *corev1.Probe, t Target) (Result, string)
}

// Update reports that a container's result for one probe kind changed.
type Update struct {
	PodUID      types.UID
	Container   string
	ContainerID string
	Kind        Kind
	Result      Result
	// Message is the last probe's message (body, output, error).
	Message string
}

// ManagerConfig configures a Manager.
type ManagerConfig struct {
	// Runner runs the probes; required.
	Runner Runner
	// Pod returns the kubelet's latest view of a pod: its spec's
	// deletionTimestamp and its status (phase, pod IP, container
	// statuses with container IDs and states); required.
	Pod func(uid types.UID) (*corev1.Pod, bool)
	// Exec returns how to run a command in a running container, for exec
	// probes; may be nil (exec probes then report Unknown).
	Exec func(pod *corev1.Pod, container, containerID string) func(ctx context.Context, cmd []string) (int, []byte, error)
	// OnUpdate is called, from a worker's goroutine, whenever a result
	// changes; it must not block for long. May be nil.
	OnUpdate func(Update)
	// Clock drives the workers' periods and initial delays; default real.
	Clock clock.WithTicker
	// Logger; default slog.Default().
	Logger *slog.Logger
}

type workerKey struct {
	pod       types.UID
	container string
	kind      Kind
}

type resultKey struct {
	containerID string
	kind        Kind
}

// Manager runs one worker per (pod, container, probe kind).
type Manager struct {
	cfg ManagerConfig
	log *slog.Logger

	mu      sync.Mutex
	workers map[workerKey]*worker
	results map[resultKey]Result
	wg      sync.WaitGroup
}

// NewManager returns a Manager with no workers.
func NewManager(cfg ManagerConfig) (*Manager, error) {
	if cfg.Runner == nil || cfg.Pod == nil {
		return nil, errors.New("prober manager: Runner and Pod are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Manager{
		cfg:     cfg,
		log:     cfg.Logger.With("component", "prober"),
		workers: map[workerKey]*worker{},
		results: map[resultKey]Result{},
	}, nil
}

// AddPod starts the workers for every probe of pod's containers (and
// sidecar init containers) that has none yet. Probe specs are taken from
// this pod; they are immutable in the API.
func (m *Manager) AddPod(pod *corev1.Pod) {
	pod = pod.DeepCopy()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range probedContainers(pod) {
		for _, k := range []Kind{Startup, Readiness, Liveness} {
			p := probeOf(c, k)
			key := workerKey{pod.UID, c.Name, k}
			if p == nil || m.workers[key] != nil {
				continue
			}
			w := newWorker(m, pod, c, k, p)
			m.workers[key] = w
			m.wg.Add(1)
			go w.run()
		}
	}
}

// RemovePod stops the pod's workers and forgets their results.
func (m *Manager) RemovePod(uid types.UID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for key, w := range m.workers {
		if key.pod == uid {
			w.stop()
		}
	}
}

// Stop stops every worker and waits for them to end.
func (m *Manager) Stop() {
	m.mu.Lock()
	for _, w := range m.workers {
		w.stop()
	}
	m.mu.Unlock()
	m.wg.Wait()
}

// Result returns the current result of a container's probe of kind k.
func (m *Manager) Result(containerID string, k Kind) (Result, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.results[resultKey{containerID, k}]
	return r, ok
}

// UpdatePodStatus sets Started and Ready of each container status from
// the probe results, as upstream: a container without a startup probe is
// started when running; one without a readiness probe is ready once
// started; a container with a readiness probe is ready only after it
// succeeded (a pending probe is asked to run now).
func (m *Manager) UpdatePodStatus(uid types.UID, status *corev1.PodStatus) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, list := range [][]corev1.ContainerStatus{status.ContainerStatuses, status.InitContainerStatuses} {
		for i := range list {
			m.updateContainerStatus(uid, &list[i])
		}
	}
}

func (m *Manager) updateContainerStatus(uid types.UID, c *corev1.ContainerStatus) {
	running := c.State.Running != nil
	started := false
	if r, ok := m.results[resultKey{c.ContainerID, Startup}]; ok && running {
		started = r == Success
	} else if running {
		_, has := m.workers[workerKey{uid, c.Name, Startup}]
		started = !has
	}
	c.Started = &started
	if !started {
		c.Ready = false
		return
	}
	ready := false
	if r, ok := m.results[resultKey{c.ContainerID, Readiness}]; ok && r == Success {
		ready = true
	} else if w, has := m.workers[workerKey{uid, c.Name, Readiness}]; has {
		w.trigger()
	} else {
		ready = true
	}
	c.Ready = ready
}

// setResult records r for (containerID, k) and reports a change.
func (m *Manager) setResult(w *worker, containerID string, r Result, msg string) {
	key := resultKey{containerID, w.kind}
	m.mu.Lock()
	old, had := m.results[key]
	m.results[key] = r
	m.mu.Unlock()
	if had && old == r {
		return
	}
	m.log.Debug("probe result changed", "pod", w.pod.Namespace+"/"+w.pod.Name, "container", w.container.Name,
		"kind", w.kind.String(), "result", r.String(), "message", msg)
	if m.cfg.OnUpdate != nil {
		m.cfg.OnUpdate(Update{PodUID: w.pod.UID, Container: w.container.Name, ContainerID: containerID,
			Kind: w.kind, Result: r, Message: msg})
	}
}

// forget drops the result of (containerID, k).
func (m *Manager) forget(containerID string, k Kind) {
	m.mu.Lock()
	delete(m.results, resultKey{containerID, k})
	m.mu.Unlock()
}

// workerDone removes w once its goroutine ends.
func (m *Manager) workerDone(w *worker) {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := workerKey{w.pod.UID, w.container.Name, w.kind}
	if m.workers[key] == w {
		delete(m.workers, key)
	}
	delete(m.results, resultKey{w.containerID, w.kind})
	m.wg.Done()
}
