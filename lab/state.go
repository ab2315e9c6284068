package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// stateFile is the name of the lab's record inside its directory.
const stateFile = "state.json"

// Proc is a process the lab started: its PID and its start time (field 22
// of /proc/<pid>/stat), so a recycled PID is never signalled.
type Proc struct {
	PID       int    `json:"pid"`
	StartTime uint64 `json:"startTime"`
}

// NodeState is what the lab creates for one node.
type NodeState struct {
	Name   string `json:"name"`
	IP     string `json:"ip"`
	NetNS  string `json:"netns"`
	Link   string `json:"link"`
	Cgroup string `json:"cgroup"`
	Dir    string `json:"dir"`
	Agent  *Proc  `json:"agent,omitempty"`
	// Argv is the agent's command line, for RestartAgent.
	Argv []string `json:"argv,omitempty"`
}

// State is everything a lab creates, written to <dir>/state.json before it
// is created, so Down can remove it after any crash.
type State struct {
	Prefix     string `json:"prefix"`
	Dir        string `json:"dir"`
	Underlay   string `json:"underlay"`
	Bridge     string `json:"bridge"`
	ServerIP   string `json:"serverIP"`
	Cgroup     string `json:"cgroup"`
	Kubeconfig string `json:"kubeconfig"`
	Server     *Proc  `json:"server,omitempty"`
	// UpstreamDNS is the lab's stand-in for the outside resolver.
	UpstreamDNS *Proc       `json:"upstreamDNS,omitempty"`
	Nodes       []NodeState `json:"nodes"`
	// Created lists the files and directories under Dir the lab made,
	// removed by Down (state.json itself last).
	Created []string `json:"created"`
}

// loadState reads <dir>/state.json; it returns (nil, nil) when there is none.
func loadState(dir string) (*State, error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read lab state: %w", err)
	}
	s := &State{}
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("parse lab state %s: %w", filepath.Join(dir, stateFile), err)
	}
	if s.Prefix == "" {
		return nil, fmt.Errorf("lab state %s names no prefix", filepath.Join(dir, stateFile))
	}
	return s, nil
}

// save writes the state atomically and durably: a temp file, fsync, rename,
// fsync of the directory.
func (s *State) save() error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode lab state: %w", err)
	}
	path := filepath.Join(s.Dir, stateFile)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("write lab state: %w", err)
	}
	_, werr := f.Write(append(b, '\n'))
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return fmt.Errorf("write lab state %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write lab state: %w", err)
	}
	d, err := os.Open(s.Dir)
	if err != nil {
		return fmt.Errorf("sync lab dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync lab dir %s: %w", s.Dir, err)
	}
	return nil
}
