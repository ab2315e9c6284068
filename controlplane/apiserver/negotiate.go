package apiserver

import (
	"mime"
	"strings"
)

// outputKind is the representation a client asked for.
type outputKind int

const (
	outJSON outputKind = iota
	outYAML
	outTable
	outPartialMetadata // PartialObjectMetadata(List)
	outProtobuf        // application/vnd.kubernetes.protobuf
)

// mediaChoice is the negotiated response format.
type mediaChoice struct {
	kind outputKind
	// contentType is what the response says it is.
	contentType string
}

// negotiate picks the first media type in Accept that rudder can produce.
// ok is false when none fits (406).
func negotiate(accept string) (mediaChoice, bool) {
	if strings.TrimSpace(accept) == "" {
		return mediaChoice{kind: outJSON, contentType: "application/json"}, true
	}
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "application/json", "application/*", "*/*":
			switch {
			case params["as"] == "Table" && params["g"] == "meta.k8s.io" && params["v"] == "v1":
				return mediaChoice{kind: outTable, contentType: "application/json;as=Table;v=v1;g=meta.k8s.io"}, true
			case strings.HasPrefix(params["as"], "PartialObjectMetadata") && params["g"] == "meta.k8s.io" && params["v"] == "v1":
				return mediaChoice{kind: outPartialMetadata, contentType: "application/json;as=" + params["as"] + ";v=v1;g=meta.k8s.io"}, true
			case params["as"] != "":
				continue // a representation we do not serve (v1beta1 tables, ...)
			}
			return mediaChoice{kind: outJSON, contentType: "application/json"}, true
		case protobufType:
			if params["as"] != "" {
				continue // Tables and metadata are served as JSON only
			}
			return mediaChoice{kind: outProtobuf, contentType: protobufType}, true
		case "application/yaml":
			if params["as"] != "" {
				continue
			}
			return mediaChoice{kind: outYAML, contentType: "application/yaml"}, true
		}
	}
	return mediaChoice{}, false
}

// wantsAggregatedDiscovery tells which aggregated discovery version the
// Accept header asks for ("v2", "v2beta1" or "").
func wantsAggregatedDiscovery(accept string) string {
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || mt != "application/json" {
			continue
		}
		if params["g"] == "apidiscovery.k8s.io" && params["as"] == "APIGroupDiscoveryList" {
			if v := params["v"]; v == "v2" || v == "v2beta1" {
				return v
			}
		}
	}
	return ""
}
