package hostlocal

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func openDisk(t *testing.T, dir string) *DiskStore {
	t.Helper()
	s, err := NewDiskStore(DiskStoreConfig{DataDir: dir, Network: "testnet"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestDiskStoreLayoutAndPersistence(t *testing.T) {
	dir := t.TempDir()
	s := openDisk(t, dir)
	a := newAlloc(t, s, Range{Subnet: netip.MustParsePrefix("10.0.0.0/24")})
	mustAllocate(t, s, a, Attachment{ContainerID: "abc", IfName: "eth0"}, "10.0.0.2")
	mustAllocate(t, s, a, att(1), "10.0.0.3")

	data, err := os.ReadFile(filepath.Join(dir, "testnet", "10.0.0.2"))
	if err != nil || string(data) != "abc\neth0\n" {
		t.Fatalf("reservation file = %q, %v", data, err)
	}
	last, err := os.ReadFile(filepath.Join(dir, "testnet", "last_reserved_ip.0"))
	if err != nil || string(last) != "10.0.0.3" {
		t.Fatalf("last_reserved_ip.0 = %q, %v", last, err)
	}
	// Leftovers of a crash mid-write and foreign files are ignored.
	for _, junk := range []string{".tmp-123", "README"} {
		if err := os.WriteFile(filepath.Join(dir, "testnet", junk), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	again := openDisk(t, dir)
	b := newAlloc(t, again, Range{Subnet: netip.MustParsePrefix("10.0.0.0/24")})
	mustAllocate(t, again, b, att(2), "10.0.0.4") // round-robin survives
	list, err := again.List()
	if err != nil || len(list) != 3 || list[0].Attachment.ContainerID != "abc" {
		t.Fatalf("List after reopen = %v, %v", list, err)
	}
}

func TestDiskStoreReadsUpstreamFormat(t *testing.T) {
	dir := t.TempDir()
	s := openDisk(t, dir)
	if err := os.WriteFile(filepath.Join(s.Dir(), "10.0.0.9"), []byte("ctr\r\neth1"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetByID(Attachment{ContainerID: "ctr", IfName: "eth1"})
	if err != nil || len(got) != 1 || got[0].String() != "10.0.0.9" {
		t.Fatalf("GetByID = %v, %v", got, err)
	}
}

func TestDiskStoreRejectsBadNetworkNames(t *testing.T) {
	for _, name := range []string{"", "../x", "a/b", ".hidden"} {
		if _, err := NewDiskStore(DiskStoreConfig{DataDir: t.TempDir(), Network: name}); err == nil {
			t.Errorf("network %q accepted", name)
		}
	}
}

// TestDiskStoreStoresPerGoroutine gives every goroutine its own DiskStore
// on one directory: separate open files, so only flock keeps them apart.
func TestDiskStoreStoresPerGoroutine(t *testing.T) {
	dir := t.TempDir()
	const n = 40
	got := make([]string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		s := openDisk(t, dir)
		a := newAlloc(t, s, Range{Subnet: netip.MustParsePrefix("10.0.0.0/24")})
		wg.Go(func() {
			c, err := allocate(s, a, att(i))
			if err != nil {
				t.Errorf("goroutine %d: %v", i, err)
			}
			got[i] = c.Address.String()
		})
	}
	wg.Wait()
	assertDistinct(t, got, n)
}

const helperEnv = "HOSTLOCAL_TEST_HELPER"

// TestDiskStoreAcrossProcesses re-executes the test binary several times;
// each child allocates addresses in one shared directory at once.
func TestDiskStoreAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	const procs, each = 4, 25
	out := make([][]byte, procs)
	var wg sync.WaitGroup
	for p := 0; p < procs; p++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestDiskStoreHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), helperEnv+"="+dir+","+strconv.Itoa(p)+","+strconv.Itoa(each))
		wg.Go(func() {
			var err error
			if out[p], err = cmd.CombinedOutput(); err != nil {
				t.Errorf("child %d: %v\n%s", p, err, out[p])
			}
		})
	}
	wg.Wait()
	var all []string
	for _, o := range out {
		for _, line := range strings.Split(string(o), "\n") {
			if ip, ok := strings.CutPrefix(line, "ALLOC "); ok {
				all = append(all, ip)
			}
		}
	}
	assertDistinct(t, all, procs*each)
	list, err := openDisk(t, dir).List()
	if err != nil || len(list) != procs*each {
		t.Fatalf("%d reservations on disk, want %d (%v)", len(list), procs*each, err)
	}
}

// TestDiskStoreHelperProcess is the child of TestDiskStoreAcrossProcesses.
func TestDiskStoreHelperProcess(t *testing.T) {
	spec := os.Getenv(helperEnv)
	if spec == "" {
		t.Skip("only run as a child of TestDiskStoreAcrossProcesses")
	}
	parts := strings.Split(spec, ",")
	proc, _ := strconv.Atoi(parts[1])
	n, _ := strconv.Atoi(parts[2])
	s := openDisk(t, parts[0])
	a := newAlloc(t, s, Range{Subnet: netip.MustParsePrefix("10.0.0.0/24")})
	for i := 0; i < n; i++ {
		c, err := allocate(s, a, Attachment{ContainerID: fmt.Sprintf("p%d-%d", proc, i), IfName: "eth0"})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("ALLOC %s\n", c.Address)
	}
}

func assertDistinct(t *testing.T, ips []string, want int) {
	t.Helper()
	seen := map[string]bool{}
	for _, ip := range ips {
		if ip == "" || seen[ip] {
			t.Fatalf("address %q handed out twice or empty in %v", ip, ips)
		}
		seen[ip] = true
	}
	if len(seen) != want {
		t.Fatalf("%d distinct addresses, want %d", len(seen), want)
	}
}
