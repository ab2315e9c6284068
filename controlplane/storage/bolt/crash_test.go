package bolt

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"rudder/controlplane/storage"
)

// crashChildEnv names the database the child writer uses; set only in
// the child process.
const crashChildEnv = "RUDDER_BOLT_CRASH_CHILD_DB"

// TestCrashChildWriter is the child of TestCrashDurability: it creates
// keys from a few goroutines until killed and prints "ack KEY REV" after
// each Create returns.
func TestCrashChildWriter(t *testing.T) {
	path := os.Getenv(crashChildEnv)
	if path == "" {
		t.Skip("runs only as the child of TestCrashDurability")
	}
	s, err := Open(Config{Path: path})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // if never killed
	defer cancel()
	var out sync.Mutex
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				key := fmt.Sprintf("/crash/p%d/w%d/%06d", os.Getpid(), w, i)
				rev, err := s.Create(ctx, key, []byte(key))
				if err != nil {
					return
				}
				out.Lock()
				fmt.Fprintf(os.Stdout, "ack %s %d\n", key, rev) // unbuffered
				out.Unlock()
			}
		})
	}
	wg.Wait()
}

// TestCrashDurability kills a writer process with SIGKILL, three times on
// the same file, and checks that every write acknowledged survives, with
// its revision, in the file and in the log.
func TestCrashDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	acks := map[string]int64{}
	for range 3 {
		maps.Copy(acks, runAndKill(t, path, 200))
	}

	s := mustOpen(t, Config{Path: path})
	ctx := t.Context()
	maxRev := int64(0)
	for key, rev := range acks {
		kv, err := s.Get(ctx, key)
		if err != nil || kv.CreateRevision != rev || kv.ModRevision != rev || string(kv.Value) != key {
			t.Fatalf("acknowledged %s at %d; after the crash Get = %+v, %v", key, rev, kv, err)
		}
		maxRev = max(maxRev, rev)
	}
	list, err := s.List(ctx, "/crash/", storage.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cur, _ := s.Revision(ctx); cur < maxRev || cur != initialRevision+int64(len(list.Items)) {
		t.Fatalf("revision %d after the crash: %d keys, last acknowledged %d", cur, len(list.Items), maxRev)
	}
	t.Logf("%d acknowledged, %d committed", len(acks), len(list.Items))
	checkLog(t, s, list.Items)
}

// checkLog watches from the first revision and expects one create per
// key, in revision order, with the keys' revisions.
func checkLog(t *testing.T, s *Store, items []storage.KeyValue) {
	revs := map[string]int64{}
	for _, kv := range items {
		revs[kv.Key] = kv.CreateRevision
	}
	ch, err := s.Watch(t.Context(), "/crash/", initialRevision)
	if err != nil {
		t.Fatal(err)
	}
	last := int64(initialRevision)
	for range len(items) {
		select {
		case ev := <-ch:
			if ev.Type != storage.EventPut || ev.KV.ModRevision != last+1 || revs[ev.KV.Key] != ev.KV.ModRevision {
				t.Fatalf("event %v %s at %d after %d; the key is at %d", ev.Type, ev.KV.Key, ev.KV.ModRevision, last, revs[ev.KV.Key])
			}
			last = ev.KV.ModRevision
		case <-time.After(10 * time.Second):
			t.Fatalf("watch stalled after revision %d", last)
		}
	}
}

// runAndKill starts the child writer on path, reads n acknowledgements,
// kills it with SIGKILL and returns what it acknowledged (key → revision).
func runAndKill(t *testing.T, path string, n int) map[string]int64 {
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChildWriter$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child writer: %v", err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	acks := map[string]int64{}
	sc := bufio.NewScanner(stdout)
	for len(acks) < n && sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || f[0] != "ack" {
			continue
		}
		rev, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			t.Fatalf("bad ack line %q", sc.Text())
		}
		acks[f[1]] = rev
	}
	if len(acks) < n {
		t.Fatalf("child writer stopped after %d acknowledgements: %v", len(acks), sc.Err())
	}
	if err := syscall.Kill(cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill child writer: %v", err)
	}
	// Acknowledgements printed before the kill still count.
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 3 && f[0] == "ack" {
			rev, _ := strconv.ParseInt(f[2], 10, 64)
			acks[f[1]] = rev
		}
	}
	_ = cmd.Wait()
	return acks
}
