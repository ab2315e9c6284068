package etcd

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"rudder/controlplane/storage"
)

// Create puts key if it has never been created (CreateRevision == 0).
func (s *Store) Create(ctx context.Context, key string, value []byte) (int64, error) {
	if err := storage.CheckKey(key); err != nil {
		return 0, fmt.Errorf("create: %w", err)
	}
	k := s.key(key)
	resp, err := s.client.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(k), "=", 0)).
		Then(clientv3.OpPut(k, string(value))).
		Commit()
	if err != nil {
		return 0, fmt.Errorf("create %s: %w", key, err)
	}
	if !resp.Succeeded {
		return 0, fmt.Errorf("create %s: %w", key, storage.ErrExists)
	}
	return resp.Header.Revision, nil
}

// Update puts key if it exists and, when expected != 0, its ModRevision
// is expected.
func (s *Store) Update(ctx context.Context, key string, value []byte, expected int64) (int64, error) {
	if err := storage.CheckKey(key); err != nil {
		return 0, fmt.Errorf("update: %w", err)
	}
	k := s.key(key)
	resp, err := s.client.Txn(ctx).
		If(precondition(k, expected)).
		Then(clientv3.OpPut(k, string(value))).
		Else(clientv3.OpGet(k, clientv3.WithKeysOnly())).
		Commit()
	if err != nil {
		return 0, fmt.Errorf("update %s at revision %d: %w", key, expected, err)
	}
	if !resp.Succeeded {
		return 0, fmt.Errorf("update %s at revision %d: %w", key, expected, refusal(resp))
	}
	return resp.Header.Revision, nil
}

// Delete deletes key under the same precondition as Update and returns
// the value it held.
func (s *Store) Delete(ctx context.Context, key string, expected int64) (int64, *storage.KeyValue, error) {
	if err := storage.CheckKey(key); err != nil {
		return 0, nil, fmt.Errorf("delete: %w", err)
	}
	k := s.key(key)
	resp, err := s.client.Txn(ctx).
		If(precondition(k, expected)).
		Then(clientv3.OpDelete(k, clientv3.WithPrevKV())).
		Else(clientv3.OpGet(k, clientv3.WithKeysOnly())).
		Commit()
	if err != nil {
		return 0, nil, fmt.Errorf("delete %s at revision %d: %w", key, expected, err)
	}
	if !resp.Succeeded {
		return 0, nil, fmt.Errorf("delete %s at revision %d: %w", key, expected, refusal(resp))
	}
	prev := resp.Responses[0].GetResponseDeleteRange().GetPrevKvs()
	if len(prev) == 0 {
		return 0, nil, fmt.Errorf("delete %s: %w", key, storage.ErrNotFound)
	}
	kv := s.kv(prev[0])
	return resp.Header.Revision, &kv, nil
}

// precondition is "the key exists" or "the key is at revision expected".
func precondition(k string, expected int64) clientv3.Cmp {
	if expected == 0 {
		return clientv3.Compare(clientv3.CreateRevision(k), ">", 0)
	}
	return clientv3.Compare(clientv3.ModRevision(k), "=", expected)
}

// refusal says why a failed precondition failed, from the Else get.
func refusal(resp *clientv3.TxnResponse) error {
	kvs := resp.Responses[0].GetResponseRange().GetKvs()
	if len(kvs) == 0 {
		return storage.ErrNotFound
	}
	return fmt.Errorf("%w: key is at revision %d", storage.ErrConflict, kvs[0].ModRevision)
}
