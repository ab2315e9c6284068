package etcd

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"rudder/controlplane/storage"
)

// watchBuffer is the capacity of a watch channel; etcd's client buffers
// further responses itself and its server never waits for a slow watcher.
const watchBuffer = 128

// Watch streams changes under prefix after fromRevision (0: the revision
// read now). Compaction is checked before the watch starts, with a Get at
// fromRevision, so a compacted start fails synchronously with ErrCompacted;
// compaction while watching ends the watch with an EventError.
func (s *Store) Watch(ctx context.Context, prefix string, fromRevision int64) (<-chan storage.Event, error) {
	if err := storage.CheckPrefix(prefix); err != nil {
		return nil, fmt.Errorf("watch: %w", err)
	}
	if fromRevision < 0 {
		return nil, fmt.Errorf("watch %s from revision %d: negative revision", prefix, fromRevision)
	}
	if err := s.checkStart(ctx, &fromRevision); err != nil {
		return nil, fmt.Errorf("watch %s from revision %d: %w", prefix, fromRevision, err)
	}
	start, end := s.rangeOf(prefix)
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	wch := s.client.Watch(wctx, start,
		clientv3.WithRange(end), clientv3.WithRev(fromRevision+1), clientv3.WithPrevKV())
	out := make(chan storage.Event, watchBuffer)
	go s.forward(wctx, cancel, wch, out)
	return out, nil
}

// checkStart resolves "now" to the current revision and fails if *from is
// compacted. A future revision is fine: the watch waits for it.
func (s *Store) checkStart(ctx context.Context, from *int64) error {
	if *from == 0 {
		rev, err := s.Revision(ctx)
		*from = rev
		return err
	}
	_, err := s.client.Get(ctx, s.prefix+"/", clientv3.WithRev(*from), clientv3.WithCountOnly())
	if err == nil || errors.Is(err, rpctypes.ErrFutureRev) {
		return nil
	}
	return mapErr(err)
}

// forward translates etcd watch responses until the watch ends.
func (s *Store) forward(ctx context.Context, cancel context.CancelFunc, wch clientv3.WatchChan, out chan<- storage.Event) {
	defer close(out)
	defer cancel()
	for {
		var resp clientv3.WatchResponse
		var ok bool
		select {
		case resp, ok = <-wch:
		case <-ctx.Done():
			return
		}
		if !ok {
			return
		}
		if err := watchErr(resp); err != nil {
			send(ctx, out, storage.Event{Type: storage.EventError, Err: err})
			return
		}
		for _, ev := range resp.Events {
			if !send(ctx, out, s.event(ev)) {
				return
			}
		}
	}
}

func send(ctx context.Context, out chan<- storage.Event, ev storage.Event) bool {
	select {
	case out <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}

// watchErr is why a response ends the watch, if it does.
func watchErr(resp clientv3.WatchResponse) error {
	if resp.CompactRevision != 0 {
		return fmt.Errorf("watch: %w: etcd is compacted at revision %d", storage.ErrCompacted, resp.CompactRevision)
	}
	if err := resp.Err(); err != nil {
		return fmt.Errorf("watch: %w", mapErr(err))
	}
	if resp.Canceled {
		return fmt.Errorf("watch: canceled by etcd: %s", resp.CancelReason)
	}
	return nil
}

// event translates one etcd event. A delete carries the removed value
// (from the previous key-value) and the revision of the delete.
func (s *Store) event(ev *clientv3.Event) storage.Event {
	out := storage.Event{Type: storage.EventPut, KV: s.kv(ev.Kv)}
	prev := ev.PrevKv
	if ev.Type == clientv3.EventTypeDelete {
		out.Type = storage.EventDelete
		if prev != nil {
			out.KV.Value = prev.Value
			out.KV.CreateRevision = prev.CreateRevision
			out.PrevValue = prev.Value
		}
		return out
	}
	if prev != nil && !ev.IsCreate() {
		out.PrevValue = prev.Value
	}
	return out
}
