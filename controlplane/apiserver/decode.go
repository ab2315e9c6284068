package apiserver

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"sigs.k8s.io/yaml"

	"rudder/controlplane/catalog"
)

// fieldValidation is the request's ?fieldValidation= directive.
type fieldValidation string

const (
	validationIgnore fieldValidation = "Ignore"
	validationWarn   fieldValidation = "Warn"
	validationStrict fieldValidation = "Strict"
)

func parseFieldValidation(r *http.Request) (fieldValidation, error) {
	switch v := r.URL.Query().Get("fieldValidation"); v {
	case "":
		return validationWarn, nil
	case "Ignore", "Warn", "Strict":
		return fieldValidation(v), nil
	default:
		return "", badRequest("fieldValidation must be one of \"Ignore\", \"Warn\", or \"Strict\", got %q", v)
	}
}

// readBody reads a request body, answering 413 past MaxRequestBytes.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, apierrors.NewRequestEntityTooLargeError(fmt.Sprintf("limit is %d", MaxRequestBytes))
	}
	if err != nil {
		return nil, badRequest("read request body: %v", err)
	}
	return b, nil
}

// toJSON converts a YAML body to JSON; JSON passes through.
func toJSON(contentType string, body []byte) ([]byte, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "application/yaml" || mt == "application/apply-patch+yaml" || (mt == "" && !looksJSON(body)) {
		j, err := yaml.YAMLToJSONStrict(body)
		if err != nil {
			return nil, badRequest("the body of the request was in an unknown format - accepted media types include: application/json, application/yaml: %v", err)
		}
		return j, nil
	}
	return body, nil
}

func looksJSON(b []byte) bool {
	s := strings.TrimSpace(string(b))
	return strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[")
}

// decoder decodes typed objects of one kind, strictly or not.
type decoder struct {
	lenient  runtime.Decoder
	strict   runtime.Decoder
	protobuf runtime.Decoder
}

func newDecoder(scheme *runtime.Scheme) decoder {
	opts := json.SerializerOptions{Yaml: false, Pretty: false, Strict: false}
	lenient := json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme, opts)
	opts.Strict = true
	strict := json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme, opts)
	return decoder{lenient: lenient, strict: strict, protobuf: protobuf.NewSerializer(scheme, scheme)}
}

// decodeInto decodes JSON into a new object of gvk. Unknown or duplicate
// fields are an error under Strict and a warning under Warn. A body whose
// apiVersion/kind names another kind is a 400.
func (s *Server) decodeInto(body []byte, gvk schema.GroupVersionKind, fv fieldValidation) (runtime.Object, []string, error) {
	tm, err := peekTypeMeta(body)
	if err != nil {
		return nil, nil, err
	}
	if tm.APIVersion != "" && tm.APIVersion != gvk.GroupVersion().String() {
		return nil, nil, badRequest("the API version in the data (%s) does not match the expected API version (%s)", tm.APIVersion, gvk.GroupVersion())
	}
	if tm.Kind != "" && tm.Kind != gvk.Kind {
		return nil, nil, badRequest("the kind in the data (%s) does not match the expected kind (%s)", tm.Kind, gvk.Kind)
	}
	into, err := s.scheme.New(gvk)
	if err != nil {
		return nil, nil, err
	}
	dec := s.decoders.lenient
	if fv != validationIgnore {
		dec = s.decoders.strict
	}
	obj, _, err := dec.Decode(body, &gvk, into)
	var warnings []string
	if err != nil && runtime.IsStrictDecodingError(err) {
		if sde, ok := runtime.AsStrictDecodingError(err); ok {
			for _, e := range sde.Errors() {
				warnings = append(warnings, e.Error())
			}
		}
		if fv == validationStrict {
			return nil, nil, cannotHandle(gvk, err)
		}
		obj, _, err = s.decoders.lenient.Decode(body, &gvk, into)
	}
	if err != nil {
		return nil, nil, cannotHandle(gvk, err)
	}
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	return obj, warnings, nil
}

// cannotHandle phrases a decode failure as upstream does.
func cannotHandle(gvk schema.GroupVersionKind, err error) error {
	return badRequest("%s in version %q cannot be handled as a %s: %v", gvk.Kind, gvk.Version, gvk.Kind, err)
}

type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

// peekTypeMeta reads apiVersion and kind, rejecting malformed JSON.
func peekTypeMeta(body []byte) (typeMeta, error) {
	var tm typeMeta
	if len(strings.TrimSpace(string(body))) == 0 {
		return tm, badRequest("the request body is empty")
	}
	if err := yaml.Unmarshal(body, &tm); err != nil {
		return tm, badRequest("the body of the request was in an unknown format: %v", err)
	}
	return tm, nil
}

// warn adds upstream-style Warning headers.
func warn(w http.ResponseWriter, msgs []string) {
	for _, m := range msgs {
		w.Header().Add("Warning", fmt.Sprintf("299 - %q", m))
	}
}

// kindFor is the kind a resource's main endpoint takes.
func kindFor(r catalog.Resource) schema.GroupVersionKind { return r.GVK() }

// protobufType is the Kubernetes protobuf media type client-go sends by
// default for built-in kinds.
const protobufType = "application/vnd.kubernetes.protobuf"

// readObject reads a request body of any supported encoding (JSON, YAML,
// Kubernetes protobuf) and decodes it as gvk.
func (s *Server) readObject(w http.ResponseWriter, r *http.Request, gvk schema.GroupVersionKind, fv fieldValidation) (runtime.Object, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == protobufType {
		return s.decodeProtobuf(body, gvk)
	}
	body, err = toJSON(r.Header.Get("Content-Type"), body)
	if err != nil {
		return nil, err
	}
	obj, warnings, err := s.decodeInto(body, gvk, fv)
	if err != nil {
		return nil, err
	}
	if fv == validationWarn {
		warn(w, warnings)
	}
	return obj, nil
}

func (s *Server) decodeProtobuf(body []byte, gvk schema.GroupVersionKind) (runtime.Object, error) {
	into, err := s.scheme.New(gvk)
	if err != nil {
		return nil, err
	}
	obj, got, err := s.decoders.protobuf.Decode(body, &gvk, into)
	if err != nil {
		return nil, cannotHandle(gvk, err)
	}
	if got != nil && got.Kind != "" && *got != gvk {
		return nil, badRequest("the kind in the data (%s) does not match the expected kind (%s)", got, gvk)
	}
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	return obj, nil
}
