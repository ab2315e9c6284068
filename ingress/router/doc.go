// Package router compiles Ingress, IngressClass, Service, EndpointSlice and
// Secret objects into a route.Table: the pure core of the ingress
// controller. Build performs no syscalls and reads no clock; the same
// input gives the same Table and the same Events whatever the order of
// the input slices.
//
// # Which Ingresses are served
//
// Our classes are the IngressClasses whose spec.controller is
// Config.Controller. An Ingress is ours when spec.ingressClassName names
// one of them; with no ingressClassName, when the legacy annotation
// kubernetes.io/ingress.class names one; with neither, when one of our
// classes is marked ingressclass.kubernetes.io/is-default-class: "true",
// or Config.WatchWithoutClass is set. An Ingress naming a class that does
// not exist is never ours.
//
// # Matching a request
//
// Hosts are exact (case-insensitive) or wildcards: "*.foo.com" matches
// exactly one more label ("bar.foo.com", neither "foo.com" nor
// "baz.bar.foo.com"). A request is tried, in order, against the rules of
// its exact host, then those of the matching wildcard host, then the
// host-less rules: when a set has no matching path the next set is tried
// (so a host-less "/" rule catches what a host's rules leave out, as in
// Kubernetes where host-less rules apply to all traffic).
//
// Within one host set, Exact paths (byte-equal) come first; then Prefix
// and Regex paths by decreasing length of the path string; on equal
// length Prefix before Regex, then the oldest Ingress. Prefix matching is
// element-wise on "/": "/foo" matches "/foo", "/foo/" and "/foo/bar", not
// "/foobar"; a trailing slash on either side is ignored; "/" matches every
// path. ImplementationSpecific paths are Prefix paths, or, when the
// Ingress has use-regex or rewrite-target, case-insensitive regular
// expressions anchored at the start (ingress-nginx's "^" + path). Only
// ImplementationSpecific paths become regular expressions: Exact and
// Prefix keep their meaning under use-regex.
//
// # Default backends
//
// When no rule matches, the default backend is, in order: the
// spec.defaultBackend of the oldest Ingress that has rules for the
// request's exact host; of the oldest that has rules for its wildcard
// host; the catch-all default, which is the spec.defaultBackend of the
// oldest Ingress that has no rules or has host-less rules; then
// Config.DefaultBackend; else no route (404). Default routes have
// PathType route.Default.
//
// # Conflicts
//
// Two Ingresses with the same (host, path, path type), or the same host's
// default backend, are resolved in favour of the oldest
// (creationTimestamp, then namespace/name); the others get a Warning
// Event with reason Conflict.
//
// # Events
//
// Events name the Ingress they are about. Events about Config itself (an
// invalid or missing global default backend) have an empty Namespace and
// Name: the caller logs them.
package router
