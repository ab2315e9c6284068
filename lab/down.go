package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"rudder/internal/mountinfo"
	"rudder/lab/netns"
)

// stopGrace is how long processes get between SIGTERM and SIGKILL.
const stopGrace = 5 * time.Second

// DownOptions says which lab to remove: the one recorded in Dir, or, with
// no state file, everything named Prefix (mounts under Dir still go).
type DownOptions struct {
	Dir    string
	Prefix string
	// Out receives one line per thing removed (nil: none).
	Out io.Writer
}

// Removed is what Teardown removed.
type Removed struct {
	Processes  []int
	Cgroup     string
	Mounts     []string
	Namespaces []string
	Links      []string
	Files      []string
}

// Empty reports whether nothing was removed.
func (r Removed) Empty() bool {
	return len(r.Processes) == 0 && r.Cgroup == "" && len(r.Mounts) == 0 && len(r.Namespaces) == 0 &&
		len(r.Links) == 0 && len(r.Files) == 0
}

// Down removes the lab recorded in dir (idempotent: nothing recorded is
// nothing to do).
func Down(ctx context.Context, dir string) error {
	_, err := Teardown(ctx, DownOptions{Dir: dir})
	return err
}

// Teardown stops the lab's processes, kills its cgroup tree, unmounts
// everything under its directory, deletes its namespaces and links and
// removes the files it created. It goes on past errors and reports them
// all; it is safe to run again.
func Teardown(ctx context.Context, opts DownOptions) (Removed, error) {
	var rm Removed
	st, err := stateFor(opts)
	if err != nil || st == nil {
		if st == nil && err == nil && opts.Out != nil {
			fmt.Fprintf(opts.Out, "no lab recorded in %s (pass --prefix to remove one by name)\n", opts.Dir)
		}
		return rm, err
	}
	if os.Geteuid() != 0 {
		return rm, errors.New("removing a lab needs root (namespaces, links, cgroups, mounts): run it with sudo")
	}
	out := opts.Out
	if out == nil {
		out = io.Discard
	}
	var errs []error
	// Agents first, while the server can still answer their last calls.
	agents := []*Proc{}
	for _, n := range st.Nodes {
		if n.Agent != nil {
			agents = append(agents, n.Agent)
		}
	}
	for _, procs := range [][]*Proc{agents, {st.Server, st.UpstreamDNS}} {
		pids, err := stopProcs(procs, stopGrace)
		rm.Processes, errs = append(rm.Processes, pids...), append(errs, err)
	}
	killed, err := killCgroup(st.Cgroup, stopGrace)
	if killed {
		rm.Cgroup = st.Cgroup
	}
	errs = append(errs, err)
	// Only below what the lab created: a --dir of / or $HOME must not
	// unmount the host's filesystems.
	mountsOK := true
	for _, c := range st.Created {
		if st.Dir == "" {
			break
		}
		done, err := unmountUnder(filepath.Join(st.Dir, c))
		rm.Mounts, mountsOK = append(rm.Mounts, done...), mountsOK && err == nil
		errs = append(errs, err)
	}
	// Links first: deleting a root-side veth also deletes its peer.
	rm.Links, err = deleteLinks(st.Prefix)
	errs = append(errs, err)
	rm.Namespaces = namespacesWithPrefix(st.Prefix)
	errs = append(errs, netns.Cleanup(st.Prefix+"-"))
	if st.Dir != "" && mountsOK {
		rm.Files, err = removeFiles(st)
		errs = append(errs, err)
	}
	rm.report(out)
	return rm, errors.Join(errs...)
}

// stateFor loads the state from opts.Dir, or makes one from opts.Prefix.
func stateFor(opts DownOptions) (*State, error) {
	dir := opts.Dir
	if dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, fmt.Errorf("lab dir %q: %w", dir, err)
		}
		dir = abs
		st, err := loadState(dir)
		if err != nil && opts.Prefix == "" {
			return nil, fmt.Errorf("%w (pass --prefix to remove the lab by name)", err)
		}
		if st != nil && (opts.Prefix == "" || opts.Prefix == st.Prefix) {
			st.Dir = dir
			return st, nil
		}
		if st != nil {
			dir = "" // the directory holds another lab: leave its files alone
		}
	}
	if opts.Prefix == "" {
		return nil, nil
	}
	if strings.ContainsAny(opts.Prefix, "/ ") || len(opts.Prefix) < 4 {
		return nil, fmt.Errorf("--prefix %q: want a lab prefix such as rdr-3fa2c1", opts.Prefix)
	}
	mounts, err := mountinfo.Read()
	if err != nil {
		return nil, err
	}
	cg2, err := mountinfo.Cgroup2(mounts)
	if err != nil {
		return nil, err
	}
	return &State{Prefix: opts.Prefix, Dir: dir, Cgroup: filepath.Join(cg2, opts.Prefix),
		Created: labFiles()}, nil
}

// namespacesWithPrefix lists /run/netns/<prefix>-*.
func namespacesWithPrefix(prefix string) []string {
	entries, err := os.ReadDir(netns.Dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix+"-") {
			out = append(out, filepath.Join(netns.Dir, e.Name()))
		}
	}
	return out
}

// removeFiles removes what the lab created under its directory, the state
// file last, then the directory if that leaves it empty.
func removeFiles(st *State) ([]string, error) {
	var done []string
	var errs []error
	for _, name := range append(st.Created, stateFile+".tmp", stateFile) {
		p := filepath.Join(st.Dir, name)
		if _, err := os.Lstat(p); err != nil {
			continue
		}
		if err := os.RemoveAll(p); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", p, err))
			continue
		}
		done = append(done, p)
	}
	if err := os.Remove(st.Dir); err == nil {
		done = append(done, st.Dir)
	}
	return done, errors.Join(errs...)
}

// report prints one line per kind of thing removed.
func (r Removed) report(w io.Writer) {
	if r.Empty() {
		fmt.Fprintln(w, "nothing to remove")
		return
	}
	if len(r.Processes) > 0 {
		fmt.Fprintf(w, "stopped processes %v\n", r.Processes)
	}
	if r.Cgroup != "" {
		fmt.Fprintf(w, "removed cgroup %s\n", r.Cgroup)
	}
	for _, group := range []struct {
		what  string
		names []string
	}{{"unmounted", r.Mounts}, {"deleted namespace", r.Namespaces}, {"deleted link", r.Links}, {"removed", r.Files}} {
		for _, n := range group.names {
			fmt.Fprintf(w, "%s %s\n", group.what, n)
		}
	}
}
