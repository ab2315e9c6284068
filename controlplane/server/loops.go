package server

import (
	"context"

	"rudder/controlplane/controllers"
	"rudder/controlplane/controllers/deployment"
	"rudder/controlplane/controllers/replicaset"
	"rudder/controlplane/scheduler"
)

// controlLoops lists the control loops `rudder server` can run, in start
// order.
func controlLoops(cfg Config) ([]controllers.Loop, error) {
	return []controllers.Loop{
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
	}, nil
}

// runLoop runs one loop until ctx ends and logs why it stopped early.
func runLoop(ctx context.Context, d controllers.Deps, name string, run func() error) {
	if err := run(); err != nil && ctx.Err() == nil {
		d.Logger.Error("control loop stopped", "loop", name, "err", err)
	}
}
