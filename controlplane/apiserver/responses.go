package apiserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"rudder/controlplane/storage"
)

// writeJSON writes v with a status code.
func writeJSON(w http.ResponseWriter, code int, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, fmt.Sprintf("encode response: %v", err), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(code)
	_, _ = w.Write(b)
	_, _ = w.Write([]byte("\n"))
}

// writeObject writes an object in the negotiated format.
func (s *Server) writeObject(w http.ResponseWriter, code int, media mediaChoice, obj runtime.Object) {
	if media.kind == outProtobuf {
		var buf bytes.Buffer
		if err := s.protobuf.serializer.Encode(obj, &buf); err == nil {
			w.Header().Set("Content-Type", protobufType)
			w.WriteHeader(code)
			_, _ = w.Write(buf.Bytes())
			return
		}
		media = mediaChoice{kind: outJSON} // a kind without protobuf (Table): JSON
	}
	writeObject(w, code, media, obj)
}

// writeObject writes an object as JSON or YAML.
func writeObject(w http.ResponseWriter, code int, media mediaChoice, obj any) {
	if media.kind == outYAML {
		b, err := yaml.Marshal(obj)
		if err != nil {
			http.Error(w, fmt.Sprintf("encode response: %v", err), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/yaml")
		w.WriteHeader(code)
		_, _ = w.Write(b)
		return
	}
	ct := media.contentType
	if ct == "" || media.kind == outTable || media.kind == outPartialMetadata {
		ct = "application/json"
	}
	writeJSON(w, code, ct, obj)
}

// writeError answers err as a metav1.Status, mapping storage errors to the
// API's codes.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	st := s.toStatusError(err)
	status := st.Status()
	status.Kind, status.APIVersion = "Status", "v1"
	if status.Code >= 500 {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSON(w, int(status.Code), "application/json", &status)
}

// toStatusError turns any error into an API status error.
func (s *Server) toStatusError(err error) *apierrors.StatusError {
	var st *apierrors.StatusError
	if errors.As(err, &st) {
		return st
	}
	switch {
	case errors.Is(err, storage.ErrCompacted):
		return apierrors.NewResourceExpired(fmt.Sprintf("too old resource version: %v", err))
	case errors.Is(err, storage.ErrFuture):
		return apierrors.NewTimeoutError("Too large resource version", 1)
	}
	return apierrors.NewInternalError(err)
}

// storageErr turns a storage error about one object into an API error.
func storageErr(err error, gr schema.GroupResource, name string) error {
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return apierrors.NewNotFound(gr, name)
	case errors.Is(err, storage.ErrExists):
		return apierrors.NewAlreadyExists(gr, name)
	case errors.Is(err, storage.ErrConflict):
		return apierrors.NewConflict(gr, name, errors.New(conflictMsg))
	}
	return err
}

const conflictMsg = "the object has been modified; please apply your changes to the latest version and try again"

// statusSuccess is the body of a successful delete of something that has
// no object left to show.
func statusSuccess(details *metav1.StatusDetails) *metav1.Status {
	return &metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusSuccess,
		Details:  details,
	}
}

func badRequest(format string, args ...any) error {
	return apierrors.NewBadRequest(fmt.Sprintf(format, args...))
}

// recoverPanics turns a handler panic into a 500 and a log line: the server
// never dies on a request.
func recoverPanics(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", p)
				st := apierrors.NewInternalError(fmt.Errorf("internal error: %v", p)).Status()
				st.Kind, st.APIVersion = "Status", "v1"
				writeJSON(w, http.StatusInternalServerError, "application/json", &st)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

var _ runtime.Object = &metav1.Status{}
