package apiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"rudder/controlplane/apiserver/objectstore"
	"rudder/controlplane/storage"
)

// defaultWatchTimeout bounds a watch without timeoutSeconds, as upstream's
// min-request-timeout does.
const defaultWatchTimeout = 30 * time.Minute

// watchEvent is one event on the wire.
type watchEvent struct {
	Type   watch.EventType `json:"type"`
	Object runtime.Object  `json:"object"`
}

// watchStream writes events to one client.
type watchStream struct {
	s       *Server
	r       *http.Request
	q       *request
	w       http.ResponseWriter
	flusher http.Flusher
	enc     *json.Encoder
	frames  io.Writer // protobuf streams: one frame per event
	sel     *selector
	lastRev int64
}

func (s *Server) watch(w http.ResponseWriter, r *http.Request, q *request) error {
	opts, err := parseListOptions(r, q)
	if err != nil {
		return err
	}
	if q.name != "" {
		// The old single-object form, .../pods/NAME?watch=true, is a watch
		// narrowed to that name, as upstream serves it.
		opts.sel.fields = fields.AndSelectors(opts.sel.fields, fields.OneTermEqualSelector("metadata.name", q.name))
	}
	v := r.URL.Query()
	timeout := defaultWatchTimeout
	if t := v.Get("timeoutSeconds"); t != "" {
		n, err := strconv.ParseInt(t, 10, 64)
		if err != nil || n < 0 {
			return badRequest("invalid timeoutSeconds %q", t)
		}
		timeout = time.Duration(n) * time.Second
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	sendInitial := v.Get("sendInitialEvents") == "true"
	bookmarks := v.Get("allowWatchBookmarks") == "true"

	var initial []runtime.Object
	var startRev int64
	if opts.resourceVersion == "" || opts.resourceVersion == "0" || sendInitial {
		initial, startRev, err = s.initialState(r, q, opts)
	} else {
		startRev, err = objectstore.ParseResourceVersion(opts.resourceVersion)
		if err != nil {
			err = badRequest("%v", err)
		}
	}
	if err != nil {
		return err
	}
	ch, err := s.cfg.Store.Watch(ctx, s.objects.Prefix(q.res, q.namespace), startRev)
	if errors.Is(err, storage.ErrCompacted) {
		return apierrors.NewResourceExpired("too old resource version: " + opts.resourceVersion)
	}
	if err != nil {
		return err
	}
	ws := s.newWatchStream(w, r, q, opts.sel, startRev)
	s.metrics.watchers.Inc()
	defer s.metrics.watchers.Dec()
	for _, obj := range initial {
		if !ws.send(watch.Added, obj) {
			return nil
		}
	}
	if sendInitial && bookmarks && !ws.bookmark(true) {
		return nil
	}
	ws.run(ctx, ch, bookmarks)
	return nil
}

// initialState lists the current objects for a watch that starts with
// them (resourceVersion "" or "0", or sendInitialEvents).
func (s *Server) initialState(r *http.Request, q *request, opts *listOptions) ([]runtime.Object, int64, error) {
	lo := *opts
	lo.limit, lo.cont, lo.rvMatch = 0, nil, ""
	list, err := s.listObjects(r, q, &lo)
	if err != nil {
		return nil, 0, err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil, 0, err
	}
	lacc, _ := meta.ListAccessor(list)
	rev, _ := objectstore.ParseResourceVersion(lacc.GetResourceVersion())
	return items, rev, nil
}

func (s *Server) newWatchStream(w http.ResponseWriter, r *http.Request, q *request, sel *selector, rev int64) *watchStream {
	flusher, _ := w.(http.Flusher)
	ct := "application/json"
	if q.media.kind == outProtobuf {
		ct = protobufType + ";stream=watch"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Transfer-Encoding", "chunked")
	w.Header().Set("Cache-Control", "no-cache, private")
	w.WriteHeader(http.StatusOK)
	if flusher != nil {
		flusher.Flush()
	}
	ws := &watchStream{s: s, r: r, q: q, w: w, flusher: flusher, enc: json.NewEncoder(w), sel: sel, lastRev: rev}
	if q.media.kind == outProtobuf {
		ws.frames = s.protobuf.framer.NewFrameWriter(w)
	}
	return ws
}

func (ws *watchStream) run(ctx context.Context, ch <-chan storage.Event, bookmarks bool) {
	tick := time.NewTicker(ws.s.cfg.WatchBookmarkInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if bookmarks && !ws.bookmark(false) {
				return
			}
		case ev, ok := <-ch:
			if !ok {
				return
			}
			if !ws.handle(ev) {
				return
			}
		}
	}
}

// handle turns a storage event into zero or one watch event, taking the
// selector into account: an object that stops matching is DELETED for
// this watcher, one that starts matching is ADDED.
func (ws *watchStream) handle(ev storage.Event) bool {
	if ev.Type == storage.EventError {
		st := ws.s.toStatusError(ev.Err).Status()
		st.Kind, st.APIVersion = "Status", "v1"
		ws.write(watch.Error, &st)
		return false
	}
	ws.lastRev = ev.KV.ModRevision
	cur, err := ws.s.objects.Decode(ws.q.res, ev.KV.Value, ev.KV.ModRevision)
	if err != nil {
		ws.s.log.Error("decode watch event", "key", ev.KV.Key, "err", err)
		return true
	}
	curMatch := ws.sel.matches(cur)
	if ev.Type == storage.EventDelete {
		return !curMatch || ws.send(watch.Deleted, cur)
	}
	prevMatch := false
	if ev.PrevValue != nil {
		if prev, err := ws.s.objects.Decode(ws.q.res, ev.PrevValue, ev.KV.ModRevision); err == nil {
			prevMatch = ws.sel.matches(prev)
		}
	}
	switch {
	case curMatch && prevMatch:
		return ws.send(watch.Modified, cur)
	case curMatch:
		return ws.send(watch.Added, cur)
	case prevMatch:
		return ws.send(watch.Deleted, cur)
	}
	return true
}

// send writes one object event in the negotiated representation.
func (ws *watchStream) send(t watch.EventType, obj runtime.Object) bool {
	out, err := ws.s.transform(ws.r, ws.q.media, obj)
	if err != nil {
		ws.s.log.Error("transform watch event", "err", err)
		return false
	}
	return ws.write(t, out)
}

func (ws *watchStream) write(t watch.EventType, obj runtime.Object) bool {
	if ws.frames != nil {
		if !ws.writeFrame(t, obj) {
			return false
		}
	} else if err := ws.enc.Encode(&watchEvent{Type: t, Object: obj}); err != nil {
		return false
	}
	if ws.flusher != nil {
		ws.flusher.Flush()
	}
	return true
}

// bookmark sends a BOOKMARK at the last revision delivered; initialEnd
// marks the end of the initial events of a sendInitialEvents watch.
func (ws *watchStream) bookmark(initialEnd bool) bool {
	obj, err := ws.s.objects.New(ws.q.res)
	if err != nil {
		return false
	}
	obj.GetObjectKind().SetGroupVersionKind(ws.q.res.GVK())
	acc, _ := meta.Accessor(obj)
	acc.SetResourceVersion(strconv.FormatInt(ws.lastRev, 10))
	if initialEnd {
		acc.SetAnnotations(map[string]string{metav1.InitialEventsAnnotationKey: "true"})
	}
	var out runtime.Object = obj
	if ws.q.media.kind == outPartialMetadata {
		out, _ = partialMetadata(obj)
	}
	return ws.write(watch.Bookmark, out)
}

// writeFrame writes one protobuf watch event.
func (ws *watchStream) writeFrame(t watch.EventType, obj runtime.Object) bool {
	var buf bytes.Buffer
	if err := ws.s.protobuf.serializer.Encode(obj, &buf); err != nil {
		ws.s.log.Error("encode watch event", "err", err)
		return false
	}
	ev := &metav1.WatchEvent{Type: string(t), Object: runtime.RawExtension{Raw: buf.Bytes()}}
	return ws.s.protobuf.raw.Encode(ev, ws.frames) == nil
}
