// Package controllers runs the control loops inside `rudder server`: the
// scheduler and the controllers that turn intent into pods, endpoints and
// node ranges. They are ordinary client-go clients of the apiserver, and
// only the holder of the `rudder-controller-manager` Lease runs them, so
// two servers on one etcd do not fight.
package controllers

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/client-go/tools/record"
)

// Deps is what every control loop is built from.
type Deps struct {
	Client    kubernetes.Interface
	Informers informers.SharedInformerFactory
	Logger    *slog.Logger
	// Rest builds further clients (metadata, dynamic).
	Rest   *rest.Config
	events record.EventBroadcaster
}

// Recorder returns an event recorder writing core/v1 Events as component.
func (d Deps) Recorder(component string) record.EventRecorder {
	return d.events.NewRecorder(scheme.Scheme, corev1.EventSource{Component: component})
}

// Loop is one control loop: it starts what it needs and returns.
type Loop struct {
	Name  string
	Start func(ctx context.Context, d Deps) error
}

// Config configures the manager.
type Config struct {
	Rest *rest.Config
	// Enabled selects loops as upstream's --controllers does: "*" for
	// all, "-name" to drop one, "name" to add one.
	Enabled     []string
	Loops       []Loop
	LeaderElect bool
	Logger      *slog.Logger
}

// Enabled tells whether a loop is selected by the --controllers list.
func Enabled(list []string, name string) bool {
	if slices.Contains(list, "-"+name) {
		return false
	}
	return slices.Contains(list, name) || slices.Contains(list, "*")
}

// Run runs the selected loops while this process holds the lease (or at
// once without leader election), until ctx ends.
func Run(ctx context.Context, cfg Config) error {
	cs, err := kubernetes.NewForConfig(cfg.Rest)
	if err != nil {
		return fmt.Errorf("controllers: client: %w", err)
	}
	start := func(ctx context.Context) {
		if err := startLoops(ctx, cfg, cs); err != nil {
			cfg.Logger.Error("start control loops", "err", err)
		}
	}
	if !cfg.LeaderElect {
		start(ctx)
		<-ctx.Done()
		return nil
	}
	host, _ := os.Hostname()
	lock, err := resourcelock.New(resourcelock.LeasesResourceLock, "kube-system", "rudder-controller-manager",
		cs.CoreV1(), cs.CoordinationV1(), resourcelock.ResourceLockConfig{Identity: fmt.Sprintf("%s_%d", host, os.Getpid())})
	if err != nil {
		return fmt.Errorf("controllers: lease lock: %w", err)
	}
	leaderelection.RunOrDie(ctx, leaderelection.LeaderElectionConfig{
		Lock: lock, ReleaseOnCancel: true,
		LeaseDuration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: 2 * time.Second,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: start,
			OnStoppedLeading: func() { cfg.Logger.Info("lost the controller lease") },
		},
	})
	return nil
}

func startLoops(ctx context.Context, cfg Config, cs kubernetes.Interface) error {
	f := informers.NewSharedInformerFactory(cs, 0)
	events := record.NewBroadcaster(record.WithContext(ctx))
	events.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: cs.CoreV1().Events("")})
	d := Deps{Client: cs, Informers: f, Logger: cfg.Logger, Rest: cfg.Rest, events: events}
	var started []string
	for _, l := range cfg.Loops {
		if !Enabled(cfg.Enabled, l.Name) {
			continue
		}
		if err := l.Start(ctx, d); err != nil {
			return fmt.Errorf("start %s: %w", l.Name, err)
		}
		started = append(started, l.Name)
	}
	f.Start(ctx.Done())
	cfg.Logger.Info("control loops running", "loops", strings.Join(started, ","))
	return nil
}
