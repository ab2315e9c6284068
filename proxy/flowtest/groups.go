package flowtest

import "rudder/proxy/model"

func clusterIPCases() []Case {
	web := []string{"10.244.1.11:8080", "10.244.2.11:8080"}
	return []Case{
		{"cluster IP from a local pod", pod(localPod, "10.96.0.11:80", model.TCP), to(false, web...)},
		{"cluster IP from a remote pod", in(remote, "10.96.0.11:80", model.TCP), to(false, web...)},
		{"cluster IP from off-cluster is masqueraded", in(outside, "10.96.0.11:80", model.TCP), to(true, web...)},
		{"cluster IP from the node is masqueraded", host(nodeIP, "10.96.0.11:80", model.TCP), to(true, web...)},
		{"cluster IP on another port is no service", pod(localPod, "10.96.0.11:81", model.TCP), accept()},
		{"cluster IP with the wrong protocol is no service", pod(localPod, "10.96.0.11:80", model.UDP), accept()},
		{"hairpin through the service is masqueraded", pod(mustAddr("10.244.1.19"), "10.96.0.19:80", model.TCP), to(true, "10.244.1.19:8080")},
		{"same endpoint from another pod is not masqueraded", pod(localPod, "10.96.0.19:80", model.TCP), to(false, "10.244.1.19:8080")},
		{"non-service address is accepted untouched", pod(localPod, "10.244.2.11:8080", model.TCP), accept()},
		{"unallocated service-range address is accepted untouched", pod(localPod, "10.96.0.99:80", model.TCP), accept()},
		{"headless service is not proxied", pod(localPod, "10.244.2.21:8080", model.TCP), accept()},
	}
}

func nodePortCases() []Case {
	web := []string{"10.244.1.11:8080", "10.244.2.11:8080"}
	return []Case{
		{"node port from outside is masqueraded", in(outside, "192.168.0.10:30011", model.TCP), to(true, web...)},
		{"node port from a local pod is masqueraded", pod(localPod, "192.168.0.10:30011", model.TCP), to(true, web...)},
		{"node port from the node is masqueraded", host(nodeIP, "192.168.0.10:30011", model.TCP), to(true, web...)},
		{"node port on a non-nodeport address is no service", in(outside, otherIP.String()+":30011", model.TCP), accept()},
		{"node port on a cluster IP is no service", pod(localPod, "10.96.0.11:30011", model.TCP), accept()},
		{"unused node port is no service", in(outside, "192.168.0.10:30099", model.TCP), accept()},
		{"node port without endpoints rejects", in(outside, "192.168.0.10:30016", model.TCP), reject()},
		{"cluster IP without endpoints rejects", pod(localPod, "10.96.0.16:80", model.TCP), reject()},
	}
}

func externalCases() []Case {
	return []Case{
		{"external IP from outside is masqueraded", in(outside, "198.51.100.11:80", model.TCP), to(true, "10.244.1.11:8080", "10.244.2.11:8080")},
		{"external IP on the node port is no service", in(outside, "198.51.100.11:30011", model.TCP), accept()},
		{"load balancer IP from outside is masqueraded", in(outside, "198.51.100.12:80", model.TCP), to(true, "10.244.2.12:8080")},
		{"load balancer IP from a local pod is masqueraded", pod(localPod, "198.51.100.12:80", model.TCP), to(true, "10.244.2.12:8080")},
		{"load balancer node port from outside", in(outside, "192.168.0.10:30012", model.TCP), to(true, "10.244.2.12:8080")},
	}
}

func policyCases() []Case {
	both := []string{"10.244.1.13:8080", "10.244.2.13:8080"}
	return []Case{
		{"eTP=Local node port from outside: local endpoint, source kept", in(outside, "192.168.0.10:30013", model.TCP), to(false, "10.244.1.13:8080")},
		{"eTP=Local LB IP from outside: local endpoint, source kept", in(outside, "198.51.100.13:80", model.TCP), to(false, "10.244.1.13:8080")},
		{"eTP=Local cluster IP from outside: all endpoints, masqueraded", in(outside, "10.96.0.13:80", model.TCP), to(true, both...)},
		{"eTP=Local node port from a local pod: all endpoints", pod(localPod, "192.168.0.10:30013", model.TCP), to(false, both...)},
		{"eTP=Local LB IP from a local pod: all endpoints", pod(localPod, "198.51.100.13:80", model.TCP), to(false, both...)},
		{"eTP=Local node port from the node: all endpoints, masqueraded", host(nodeIP, "192.168.0.10:30013", model.TCP), to(true, both...)},
		{"eTP=Local without local endpoint from outside drops", in(outside, "192.168.0.10:30014", model.TCP), drop()},
		{"eTP=Local without local endpoint from a local pod: remote endpoint", pod(localPod, "192.168.0.10:30014", model.TCP), to(false, "10.244.2.14:8080")},
		{"eTP=Local without local endpoint, cluster IP works", pod(localPod, "10.96.0.14:80", model.TCP), to(false, "10.244.2.14:8080")},
		{"iTP=Local from a local pod: local endpoint only", pod(localPod, "10.96.0.15:80", model.TCP), to(false, "10.244.1.15:8080")},
		{"iTP=Local from the node: local endpoint, masqueraded", host(nodeIP, "10.96.0.15:80", model.TCP), to(true, "10.244.1.15:8080")},
	}
}

func endpointStateCases() []Case {
	return []Case{
		{"serving-terminating used when no endpoint is ready", pod(localPod, "10.96.0.17:80", model.TCP), to(false, "10.244.2.17:8080")},
		{"serving-terminating unused while one is ready", pod(localPod, "10.96.0.18:80", model.TCP), to(false, "10.244.2.18:8080")},
	}
}

func protocolCases() []Case {
	return []Case{
		{"UDP port with a named target port", pod(localPod, "10.96.0.20:53", model.UDP), to(false, "10.244.2.20:5353")},
		{"TCP port of the same number", pod(localPod, "10.96.0.20:53", model.TCP), to(false, "10.244.2.20:5353")},
		{"SCTP port", pod(localPod, "10.96.0.20:9000", model.SCTP), to(false, "10.244.2.20:9009")},
		{"SCTP port over TCP is no service", pod(localPod, "10.96.0.20:9000", model.TCP), accept()},
		{"UDP cluster IP from off-cluster is masqueraded", in(outside, "10.96.0.20:53", model.UDP), to(true, "10.244.2.20:5353")},
	}
}
