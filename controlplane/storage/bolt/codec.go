package bolt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"rudder/controlplane/storage"
)

// The on-disk encodings. All integers are big-endian so that revision keys
// sort in revision order.
//
//	current[key] = createRev(8) modRev(8) value
//	log[rev(8)]  = type(1) createRev(8) prevModRev(8) hasPrev(1)
//	               uvarint(len key) key uvarint(len value) value prevValue
//
// A log entry holds enough to undo it: prevModRev is the ModRevision the
// key had before (0 on create), and for a delete the value is the value
// removed.

const (
	recordHeader = 16
	eventHeader  = 18
)

var errCorrupt = errors.New("corrupt record")

func revKey(rev int64) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(rev))
}

func decodeRev(b []byte) int64 {
	if len(b) != 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(b))
}

func encodeRecord(createRev, modRev int64, value []byte) []byte {
	b := make([]byte, recordHeader, recordHeader+len(value))
	binary.BigEndian.PutUint64(b[0:8], uint64(createRev))
	binary.BigEndian.PutUint64(b[8:16], uint64(modRev))
	return append(b, value...)
}

// decodeRecord returns a KeyValue that owns its memory (b may point into
// the mmap'd file, valid only inside the transaction).
func decodeRecord(key string, b []byte) (*storage.KeyValue, error) {
	if len(b) < recordHeader {
		return nil, fmt.Errorf("decode record %s: %w", key, errCorrupt)
	}
	return &storage.KeyValue{
		Key:            key,
		Value:          bytes.Clone(b[recordHeader:]),
		CreateRevision: int64(binary.BigEndian.Uint64(b[0:8])),
		ModRevision:    int64(binary.BigEndian.Uint64(b[8:16])),
	}, nil
}

// event is one log entry.
type event struct {
	typ        storage.EventType
	key        string
	value      []byte // new value (put) or removed value (delete)
	prev       []byte // value before a put that updated the key
	hasPrev    bool   // the put was an update
	createRev  int64
	prevModRev int64
}

func (e *event) encode() []byte {
	n := eventHeader + 2*binary.MaxVarintLen64 + len(e.key) + len(e.value) + len(e.prev)
	b := make([]byte, eventHeader, n)
	b[0] = byte(e.typ)
	binary.BigEndian.PutUint64(b[1:9], uint64(e.createRev))
	binary.BigEndian.PutUint64(b[9:17], uint64(e.prevModRev))
	if e.hasPrev {
		b[17] = 1
	}
	b = binary.AppendUvarint(b, uint64(len(e.key)))
	b = append(b, e.key...)
	b = binary.AppendUvarint(b, uint64(len(e.value)))
	b = append(b, e.value...)
	return append(b, e.prev...)
}

// eventKey returns the key of an encoded event without copying it; use it
// only inside the transaction.
func eventKey(b []byte) ([]byte, []byte, error) {
	if len(b) < eventHeader {
		return nil, nil, errCorrupt
	}
	n, w := binary.Uvarint(b[eventHeader:])
	rest := b[eventHeader+max(w, 0):]
	if w <= 0 || n > uint64(len(rest)) {
		return nil, nil, errCorrupt
	}
	return rest[:n], rest[n:], nil
}

// decodeEvent decodes a log entry into memory it owns.
func decodeEvent(b []byte) (event, error) {
	key, rest, err := eventKey(b)
	if err != nil {
		return event{}, err
	}
	n, w := binary.Uvarint(rest)
	if w <= 0 || n > uint64(len(rest)-w) {
		return event{}, errCorrupt
	}
	rest = rest[w:]
	e := event{
		typ:        storage.EventType(b[0]),
		key:        string(key),
		value:      bytes.Clone(rest[:n]),
		hasPrev:    b[17] == 1,
		createRev:  int64(binary.BigEndian.Uint64(b[1:9])),
		prevModRev: int64(binary.BigEndian.Uint64(b[9:17])),
	}
	if e.hasPrev {
		e.prev = bytes.Clone(rest[n:])
	}
	if e.typ != storage.EventPut && e.typ != storage.EventDelete {
		return event{}, errCorrupt
	}
	return e, nil
}

// toWatch is the event as a watcher sees it; rev is its log revision.
func (e *event) toWatch(rev int64) storage.Event {
	ev := storage.Event{
		Type: e.typ,
		KV: storage.KeyValue{
			Key:            e.key,
			Value:          e.value,
			CreateRevision: e.createRev,
			ModRevision:    rev,
		},
		PrevValue: e.prev,
	}
	if e.typ == storage.EventDelete {
		ev.PrevValue = e.value
	}
	return ev
}

// before is the state of the key just before the event: nil if the event
// created it.
func (e *event) before() *storage.KeyValue {
	if e.typ == storage.EventPut && !e.hasPrev {
		return nil
	}
	kv := &storage.KeyValue{Key: e.key, Value: e.value, CreateRevision: e.createRev, ModRevision: e.prevModRev}
	if e.typ == storage.EventPut {
		kv.Value = e.prev
	}
	return kv
}
