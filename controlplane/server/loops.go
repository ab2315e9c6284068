package server

import (
	"context"

	"rudder/controlplane/controllers"
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
	}, nil
}
