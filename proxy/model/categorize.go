package model

// categorize fills ClusterEndpoints and LocalEndpoints from Endpoints:
// ready endpoints, else serving-terminating ones (only when no ready one
// exists), among all endpoints or, with internalTrafficPolicy Local, among
// the local ones; LocalEndpoints likewise among the local ones, and only
// with externalTrafficPolicy Local (nil otherwise: external traffic then
// uses ClusterEndpoints).
func categorize(sp *ServicePort) {
	local := filter(sp.Endpoints, func(e Endpoint) bool { return e.Local })
	if sp.InternalPolicyLocal {
		sp.ClusterEndpoints = usable(local)
	} else {
		sp.ClusterEndpoints = usable(sp.Endpoints)
	}
	if sp.ExternalPolicyLocal {
		sp.LocalEndpoints = usable(local)
	}
}

// usable is the ready endpoints of eps, or, if none is ready, the serving
// and terminating ones.
func usable(eps []Endpoint) []Endpoint {
	if ready := filter(eps, func(e Endpoint) bool { return e.Ready }); len(ready) > 0 {
		return ready
	}
	return filter(eps, func(e Endpoint) bool { return e.Serving && e.Terminating })
}

func filter(eps []Endpoint, keep func(Endpoint) bool) []Endpoint {
	var out []Endpoint
	for _, e := range eps {
		if keep(e) {
			out = append(out, e)
		}
	}
	return out
}

// LocalReadyEndpoints counts the ready endpoints of sp on this node: what
// the externalTrafficPolicy Local health check reports. Terminating ones
// are not counted, so that load balancers drain the node while they
// still serve the connections that arrive.
func (sp *ServicePort) LocalReadyEndpoints() int {
	n := 0
	for _, e := range sp.Endpoints {
		if e.Local && e.Ready {
			n++
		}
	}
	return n
}
