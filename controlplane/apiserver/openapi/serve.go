package openapi

import (
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	openapi_v2 "github.com/google/gnostic-models/openapiv2"
	openapi_v3 "github.com/google/gnostic-models/openapiv3"
	"github.com/munnerz/goautoneg"
	"google.golang.org/protobuf/proto"
	"k8s.io/kube-openapi/pkg/handler3"
)

// Content types of the documents. Clients ask for the protobuf forms with
// the "@" spelling (client-go's discovery.OpenAPISchema sends
// application/com.github.proto-openapi.spec.v2@v1.0+protobuf); the server
// answers with the "." spelling, as kube-apiserver does.
const (
	v2ProtoAccept = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
	v2ProtoType   = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
	v3ProtoAccept = "application/com.github.proto-openapi.spec.v3@v1.0+protobuf"
	v3ProtoType   = "application/com.github.proto-openapi.spec.v3.v1.0+protobuf"
	v3Root        = "/openapi/v3"
)

// format is one representation a client may ask for.
type format struct {
	accepts     []string // media types that select it
	contentType string   // what the response says
	proto       bool
}

func jsonFormat() format { return format{accepts: []string{mediaJSON}, contentType: mediaJSON} }

func v2Formats() []format {
	return []format{jsonFormat(), {accepts: []string{v2ProtoAccept, v2ProtoType}, contentType: v2ProtoType, proto: true}}
}

func v3Formats() []format {
	return []format{jsonFormat(), {accepts: []string{v3ProtoAccept, v3ProtoType}, contentType: v3ProtoType, proto: true}}
}

// document is one document in every form it is served in.
type document struct {
	json, jsonGz   []byte
	proto, protoGz []byte
	hash           string // hex SHA-512 of the JSON: the ETag and v3 ?hash=
	modified       time.Time
}

func newDocument(v any, toProto func([]byte) ([]byte, error), modified time.Time) (*document, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode json: %w", err)
	}
	d := &document{json: j, hash: fmt.Sprintf("%X", sha512.Sum512(j)), modified: modified}
	if d.jsonGz, err = gzipped(j); err != nil {
		return nil, err
	}
	if toProto == nil {
		return d, nil
	}
	if d.proto, err = toProto(j); err != nil {
		return nil, fmt.Errorf("encode protobuf: %w", err)
	}
	if d.protoGz, err = gzipped(d.proto); err != nil {
		return nil, err
	}
	return d, nil
}

func gzipped(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return buf.Bytes(), nil
}

func v2Proto(j []byte) ([]byte, error) {
	doc, err := openapi_v2.ParseDocument(j)
	if err != nil {
		return nil, err
	}
	return proto.MarshalOptions{Deterministic: true}.Marshal(doc)
}

func v3Proto(j []byte) ([]byte, error) {
	doc, err := openapi_v3.ParseDocument(j)
	if err != nil {
		return nil, err
	}
	return proto.MarshalOptions{Deterministic: true}.Marshal(doc)
}

// encode renders every document once.
func (s *Spec) encode(now time.Time) error {
	var err error
	if s.v2Doc, err = newDocument(s.v2, v2Proto, now); err != nil {
		return fmt.Errorf("v2: %w", err)
	}
	s.v3Docs = make(map[string]*document, len(s.v3))
	index := handler3.OpenAPIV3Discovery{Paths: map[string]handler3.OpenAPIV3DiscoveryGroupVersion{}}
	for path, doc := range s.v3 {
		d, err := newDocument(doc, v3Proto, now)
		if err != nil {
			return fmt.Errorf("v3 %s: %w", path, err)
		}
		s.v3Docs[path] = d
		index.Paths[path] = handler3.OpenAPIV3DiscoveryGroupVersion{ServerRelativeURL: v3URL(path, d.hash)}
	}
	if s.v3Index, err = newDocument(index, nil, now); err != nil {
		return fmt.Errorf("v3 index: %w", err)
	}
	return nil
}

func v3URL(path, hash string) string {
	return v3Root + "/" + path + "?" + url.Values{"hash": {hash}}.Encode()
}

// Install mounts the handlers on mux at the paths kube-apiserver serves
// them: /openapi/v2, /openapi/v3 and /openapi/v3/.
func (s *Spec) Install(mux *http.ServeMux) {
	mux.HandleFunc("/openapi/v2", s.ServeV2)
	mux.HandleFunc(v3Root, s.ServeV3)
	mux.HandleFunc(v3Root+"/", s.ServeV3)
}

// ServeV2 answers GET /openapi/v2: JSON unless the Accept header asks for
// the gnostic protobuf, with an ETag (If-None-Match gives 304) and gzip when
// the client accepts it.
func (s *Spec) ServeV2(w http.ResponseWriter, r *http.Request) {
	if !readOnly(w, r) {
		return
	}
	f, ok := negotiate(r.Header.Get("Accept"), v2Formats())
	if !ok {
		http.Error(w, "openapi/v2 is served as application/json or "+v2ProtoType, http.StatusNotAcceptable)
		return
	}
	s.v2Doc.serve(w, r, f)
}

// ServeV3 answers GET /openapi/v3 with the index of group version documents
// and GET /openapi/v3/<api/v1 | apis/GROUP/VERSION>[?hash=H] with one
// document, JSON or protobuf by the Accept header. With the current hash the
// answer is cacheable forever; with a stale one it redirects to the current
// URL. It expects the full request path (mount it at both /openapi/v3 and
// /openapi/v3/, without stripping the prefix).
func (s *Spec) ServeV3(w http.ResponseWriter, r *http.Request) {
	if !readOnly(w, r) {
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, v3Root)
	if !ok || (rest != "" && rest[0] != '/') {
		http.NotFound(w, r)
		return
	}
	path := strings.Trim(rest, "/")
	if path == "" {
		s.v3Index.serve(w, r, jsonFormat())
		return
	}
	d, ok := s.v3Docs[path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	f, ok := negotiate(r.Header.Get("Accept"), v3Formats())
	if !ok {
		http.Error(w, "openapi/v3 is served as application/json or "+v3ProtoType, http.StatusNotAcceptable)
		return
	}
	if hash := r.URL.Query().Get("hash"); hash != "" {
		if hash != d.hash {
			http.Redirect(w, r, v3URL(path, d.hash), http.StatusMovedPermanently)
			return
		}
		w.Header().Set("Cache-Control", "public, immutable")
		w.Header().Set("Expires", time.Now().AddDate(1, 0, 0).UTC().Format(http.TimeFormat))
	}
	d.serve(w, r, f)
}

func readOnly(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

// negotiate picks the first format the Accept header allows, in the
// header's order of preference; no header means anything.
func negotiate(accept string, formats []format) (format, bool) {
	if accept == "" {
		accept = "*/*"
	}
	for _, c := range goautoneg.ParseAccept(accept) {
		if c.Q <= 0 {
			continue
		}
		for _, f := range formats {
			if f.matches(c) {
				return f, true
			}
		}
	}
	return format{}, false
}

func (f format) matches(c goautoneg.Accept) bool {
	for _, a := range f.accepts {
		typ, sub, _ := strings.Cut(a, "/")
		if (c.Type == "*" || c.Type == typ) && (c.SubType == "*" || c.SubType == sub) {
			return true
		}
	}
	return false
}

// serve writes the document in format f; http.ServeContent answers
// If-None-Match with 304.
func (d *document) serve(w http.ResponseWriter, r *http.Request, f format) {
	body, gz := d.json, d.jsonGz
	if f.proto {
		body, gz = d.proto, d.protoGz
	}
	h := w.Header()
	h.Add("Vary", "Accept")
	h.Add("Vary", "Accept-Encoding")
	h.Set("Content-Type", f.contentType)
	h.Set("Etag", strconv.Quote(d.hash))
	if acceptsGzip(r) {
		body = gz
		h.Set("Content-Encoding", "gzip")
	}
	http.ServeContent(w, r, "", d.modified, bytes.NewReader(body))
}

// acceptsGzip tells whether Accept-Encoding allows gzip (and not with q=0).
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q=")
		if !ok {
			return true
		}
		v, err := strconv.ParseFloat(q, 64)
		return err == nil && v > 0
	}
	return false
}
