package server

import (
	"context"
	"fmt"
	"net"
	"time"

	"k8s.io/client-go/metadata"

	"rudder/controlplane/controllers"
	"rudder/controlplane/controllers/cronjob"
	"rudder/controlplane/controllers/daemonset"
	"rudder/controlplane/controllers/deployment"
	"rudder/controlplane/controllers/endpointslice"
	"rudder/controlplane/controllers/gc"
	"rudder/controlplane/controllers/job"
	"rudder/controlplane/controllers/namespace"
	"rudder/controlplane/controllers/nodeipam"
	"rudder/controlplane/controllers/nodelifecycle"
	"rudder/controlplane/controllers/replicaset"
	"rudder/controlplane/controllers/serviceaccount"
	"rudder/controlplane/controllers/statefulset"
	"rudder/controlplane/scheduler"
)

// controlLoops lists the control loops `rudder server` can run, in start
// order; rootCA is the cluster CA the serviceaccount loop publishes.
func controlLoops(cfg Config, rootCA []byte) ([]controllers.Loop, error) {
	return []controllers.Loop{
		{Name: "serviceaccount", Start: func(ctx context.Context, d controllers.Deps) error {
			c, err := serviceaccount.New(serviceaccount.Config{Client: d.Client, Informers: d.Informers,
				RootCA: rootCA, Logger: d.Logger.With("loop", "serviceaccount")})
			if err != nil {
				return err
			}
			go runLoop(ctx, d, "serviceaccount", func() error { return c.Run(ctx, 2) })
			return nil
		}},
		{Name: "scheduler", Start: func(ctx context.Context, d controllers.Deps) error {
			s, err := scheduler.New(scheduler.Config{Client: d.Client, Informers: d.Informers, Logger: d.Logger.With("loop", "scheduler")})
			if err != nil {
				return err
			}
			go func() {
				if err := s.Run(ctx); err != nil {
					d.Logger.Error("scheduler stopped", "err", err)
				}
			}()
			return nil
		}},
		{Name: "replicaset", Start: func(ctx context.Context, d controllers.Deps) error {
			c, err := replicaset.New(replicaset.Config{Client: d.Client, Informers: d.Informers,
				Logger: d.Logger.With("loop", "replicaset"), Recorder: d.Recorder("replicaset-controller")})
			if err != nil {
				return err
			}
			go runLoop(ctx, d, "replicaset", func() error { return c.Run(ctx, 4) })
			return nil
		}},
		{Name: "deployment", Start: func(ctx context.Context, d controllers.Deps) error {
			c, err := deployment.New(deployment.Config{Client: d.Client, Informers: d.Informers,
				Logger: d.Logger.With("loop", "deployment"), Recorder: d.Recorder("deployment-controller")})
			if err != nil {
				return err
			}
			go runLoop(ctx, d, "deployment", func() error { return c.Run(ctx, 4) })
			return nil
		}},
		{Name: "endpointslice", Start: func(ctx context.Context, d controllers.Deps) error {
			c, err := endpointslice.New(endpointslice.Config{Client: d.Client, Informers: d.Informers,
				Logger: d.Logger.With("loop", "endpointslice")})
			if err != nil {
				return err
			}
			go runLoop(ctx, d, "endpointslice", func() error { return c.Run(ctx, 4) })
			return nil
		}},
		{Name: "daemonset", Start: func(ctx context.Context, d controllers.Deps) error {
			c, err := daemonset.New(daemonset.Config{Client: d.Client, Informers: d.Informers,
				Logger: d.Logger.With("loop", "daemonset"), Recorder: d.Recorder("daemonset-controller")})
			if err != nil {
				return err
			}
			go runLoop(ctx, d, "daemonset", func() error { return c.Run(ctx, 2) })
			return nil
		}},
		{Name: "statefulset", Start: func(ctx context.Context, d controllers.Deps) error {
			c, err := statefulset.New(statefulset.Config{Client: d.Client, Informers: d.Informers,
				Logger: d.Logger.With("loop", "statefulset"), Recorder: d.Recorder("statefulset-controller")})
			if err != nil {
				return err
			}
			go runLoop(ctx, d, "statefulset", func() error { return c.Run(ctx, 2) })
			return nil
		}},
		{Name: "job", Start: func(ctx context.Context, d controllers.Deps) error {
			c, err := job.New(job.Config{Client: d.Client, Informers: d.Informers,
				Logger: d.Logger.With("loop", "job"), Recorder: d.Recorder("job-controller")})
			if err != nil {
				return err
			}
			go runLoop(ctx, d, "job", func() error { return c.Run(ctx, 4) })
			return nil
		}},
		{Name: "cronjob", Start: func(ctx context.Context, d controllers.Deps) error {
			c, err := cronjob.New(cronjob.Config{Client: d.Client, Informers: d.Informers,
				Logger: d.Logger.With("loop", "cronjob"), Recorder: d.Recorder("cronjob-controller")})
			if err != nil {
				return err
			}
			go runLoop(ctx, d, "cronjob", func() error { return c.Run(ctx, 2) })
			return nil
		}},
		{Name: "nodeipam", Start: func(ctx context.Context, d controllers.Deps) error {
			_, cidr, err := net.ParseCIDR(cfg.ClusterCIDR)
			if err != nil {
				return fmt.Errorf("--cluster-cidr %q: %w", cfg.ClusterCIDR, err)
			}
			c, err := nodeipam.New(nodeipam.Config{Client: d.Client, Informers: d.Informers, ClusterCIDR: cidr,
				NodeMaskSize: cfg.NodeCIDRMaskSize, Recorder: d.Recorder("node-ipam-controller"), Logger: d.Logger.With("loop", "nodeipam")})
			if err != nil {
				return err
			}
			go runLoop(ctx, d, "nodeipam", func() error { return c.Run(ctx) })
			return nil
		}},
		{Name: "nodelifecycle", Start: func(ctx context.Context, d controllers.Deps) error {
			monitor := min(nodelifecycle.DefaultMonitorPeriod, max(cfg.NodeMonitorGracePeriod/4, 100*time.Millisecond))
			c, err := nodelifecycle.New(nodelifecycle.Config{Client: d.Client, Informers: d.Informers,
				GracePeriod: cfg.NodeMonitorGracePeriod, MonitorPeriod: monitor,
				Recorder: d.Recorder("node-controller"), Logger: d.Logger.With("loop", "nodelifecycle")})
			if err != nil {
				return err
			}
			go runLoop(ctx, d, "nodelifecycle", func() error { return c.Run(ctx) })
			return nil
		}},
		{Name: "garbagecollector", Start: func(ctx context.Context, d controllers.Deps) error {
			md, err := metadataClient(d)
			if err != nil {
				return err
			}
			c, err := gc.New(gc.Config{Metadata: md, Logger: d.Logger.With("loop", "garbagecollector")})
			if err != nil {
				return err
			}
			go runLoop(ctx, d, "garbagecollector", func() error { return c.Run(ctx) })
			return nil
		}},
		{Name: "namespace", Start: func(ctx context.Context, d controllers.Deps) error {
			md, err := metadataClient(d)
			if err != nil {
				return err
			}
			c, err := namespace.New(namespace.Config{Client: d.Client, Metadata: md, Informers: d.Informers,
				Logger: d.Logger.With("loop", "namespace")})
			if err != nil {
				return err
			}
			go runLoop(ctx, d, "namespace", func() error { return c.Run(ctx) })
			return nil
		}},
	}, nil
}

// metadataClient is the metadata-only client the garbage collector and
// the namespace controller list every kind with.
func metadataClient(d controllers.Deps) (metadata.Interface, error) {
	return metadata.NewForConfig(d.Rest)
}

// runLoop runs one loop until ctx ends and logs why it stopped early.
func runLoop(ctx context.Context, d controllers.Deps, name string, run func() error) {
	if err := run(); err != nil && ctx.Err() == nil {
		d.Logger.Error("control loop stopped", "loop", name, "err", err)
	}
}
