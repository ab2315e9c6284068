// Package podenv computes, without any syscall or API call, what the kubelet
// puts around a container: its environment (Env, ExpandCommand), its
// /etc/resolv.conf (ResolvConf), its /etc/hosts (Hosts) and its hostname
// (Hostname). The rules follow upstream's kubelet; lookups of ConfigMaps and
// Secrets are injected by the caller.
package podenv
