package server

import (
	"rudder/controlplane/controllers"
)

// controlLoops lists the control loops `rudder server` can run, in start
// order.
func controlLoops(cfg Config) ([]controllers.Loop, error) {
	return []controllers.Loop{}, nil
}
