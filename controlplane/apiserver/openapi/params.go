package openapi

import "k8s.io/kube-openapi/pkg/common"

// param is one route parameter; it implements common.Parameter.
type param struct {
	name     string
	desc     string
	dataType string // "string", "boolean" or "integer"
	kind     common.ParameterKind
	required bool
}

var _ common.Parameter = param{}

func (p param) Name() string               { return p.name }
func (p param) Description() string        { return p.desc }
func (p param) Required() bool             { return p.required }
func (p param) Kind() common.ParameterKind { return p.kind }
func (p param) DataType() string           { return p.dataType }
func (p param) AllowMultiple() bool        { return false }

func query(name, dataType, desc string) param {
	return param{name: name, desc: desc, dataType: dataType, kind: common.QueryParameterKind}
}

func pathParam(name, desc string) param {
	return param{name: name, desc: desc, dataType: "string", kind: common.PathParameterKind, required: true}
}

func body(required bool) param {
	return param{name: "body", dataType: "string", kind: common.BodyParameterKind, required: required}
}

func params(ps ...param) []common.Parameter {
	out := make([]common.Parameter, len(ps))
	for i, p := range ps {
		out[i] = p
	}
	return out
}

func prettyParam() param {
	return query("pretty", "string", "If 'true', then the output is pretty printed.")
}

func nameParam(kind string) param { return pathParam("name", "name of the "+kind) }

func namespaceParam() param {
	return pathParam("namespace", "object name and auth scope, such as for teams and projects")
}

// writeParams are the query parameters of create and replace.
func writeParams() []param {
	return []param{
		query("dryRun", "string", "When present, modifications are not persisted. The only valid value is 'All'."),
		query("fieldManager", "string", "Name of the actor or entity making the change; at most 128 printable characters."),
		query("fieldValidation", "string", "How the server treats unknown or duplicate fields in the request body: "+
			"Ignore (drop them silently), Warn (drop them and send a warning header per field) or Strict (fail the request)."),
	}
}

// patchParams are the query parameters of patch, including apply's force.
func patchParams() []param {
	return append(writeParams(), query("force", "boolean",
		"Force an apply request to take over fields that other managers own. Only for apply patches."))
}

// selectionParams choose the objects a list, watch or deletecollection covers.
func selectionParams() []param {
	return []param{
		query("continue", "string", "The continue token returned by the previous page of a chunked list."),
		query("fieldSelector", "string", "A selector restricting the returned objects by their fields."),
		query("labelSelector", "string", "A selector restricting the returned objects by their labels."),
		query("limit", "integer", "The maximum number of objects to return in one page."),
		query("resourceVersion", "string", "The resource version the request is served from."),
		query("resourceVersionMatch", "string", "How resourceVersion is applied: Exact or NotOlderThan."),
		query("sendInitialEvents", "boolean", "With watch=true, begin the watch with synthetic events for the current state."),
		query("timeoutSeconds", "integer", "Timeout of the list or watch call, in seconds."),
	}
}

// listParams are the query parameters of list and watch.
func listParams() []param {
	return append(selectionParams(),
		query("allowWatchBookmarks", "boolean", "Ask the server to send BOOKMARK watch events."),
		query("watch", "boolean", "Watch for changes to the described objects instead of listing them."))
}

// deleteParams are the query parameters of delete and deletecollection.
func deleteParams() []param {
	return []param{
		query("dryRun", "string", "When present, modifications are not persisted. The only valid value is 'All'."),
		query("gracePeriodSeconds", "integer", "Seconds before the object is deleted; 0 means immediately."),
		query("ignoreStoreReadErrorWithClusterBreakingPotential", "boolean",
			"Delete an object whose stored data cannot be read or decoded."),
		query("orphanDependents", "boolean", "Deprecated: use propagationPolicy."),
		query("propagationPolicy", "string", "Garbage collection of dependents: Orphan, Background or Foreground."),
	}
}

// logParams are the query parameters of pods/log.
func logParams() []param {
	return []param{
		query("container", "string", "The container whose logs to stream."),
		query("follow", "boolean", "Follow the log stream."),
		query("insecureSkipTLSVerifyBackend", "boolean", "Do not verify the serving certificate of the kubelet."),
		query("limitBytes", "integer", "Stop after this many bytes."),
		query("previous", "boolean", "The logs of the previous, terminated container instance."),
		query("sinceSeconds", "integer", "Only logs newer than this many seconds."),
		query("stream", "string", "The stream to return: All, Stdout or Stderr."),
		query("tailLines", "integer", "Only this many lines from the end of the log."),
		query("timestamps", "boolean", "Prefix every line with an RFC3339 timestamp."),
	}
}

// connectParams are the query parameters of a connect subresource.
func connectParams(subresource string) []param {
	switch subresource {
	case "exec", "attach":
		ps := []param{
			query("container", "string", "The container to connect to."),
			query("stderr", "boolean", "Redirect the standard error stream."),
			query("stdin", "boolean", "Redirect the standard input stream."),
			query("stdout", "boolean", "Redirect the standard output stream."),
			query("tty", "boolean", "Allocate a terminal."),
		}
		if subresource == "exec" {
			ps = append(ps, query("command", "string", "The command to run, one argument per parameter."))
		}
		return ps
	case "portforward":
		return []param{query("ports", "integer", "The ports to forward.")}
	case "proxy":
		return []param{query("path", "string", "The path to proxy to.")}
	}
	return nil
}
