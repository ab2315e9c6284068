// Package runtime runs containers as processes of this machine: a host
// program started in the pod's network namespace, in its own mount and
// UTS namespaces, with bind-mounted /etc files and volumes, its output
// in CRI-format log files and its processes in a per-container cgroup.
//
// A container is started through a re-exec of the rudder binary as
// `container-init` (see RunInit), because a forked Go child cannot enter
// a network namespace before it executes the program.
package runtime

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Config configures a Runtime.
type Config struct {
	// LogDir holds the container logs (see LogPath).
	LogDir string
	// StateDir holds files the runtime generates (busybox applet links,
	// per-container files). Required.
	StateDir string
	// CgroupRoot is an absolute cgroup v2 directory for the pods
	// (<root>/pod<uid>/<container>-<restart>), or "" for no cgroups.
	CgroupRoot string
	// InitArgv runs container-init, e.g. {"/usr/bin/rudder",
	// "container-init"}; tests use the test binary. Required.
	InitArgv []string
	// RudderBinary is the program of the "rudder" image.
	RudderBinary string
	// Images are added to DefaultImages(RudderBinary), replacing
	// same-named entries.
	Images ImageMap
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// DefaultInitArgv runs container-init from the running binary, for
// Config.InitArgv in the rudder binary.
func DefaultInitArgv() ([]string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the running binary for container-init: %w", err)
	}
	return []string{self, "container-init"}, nil
}

// Runtime starts, stops and execs into containers. It is safe for
// concurrent use.
type Runtime struct {
	cfg     Config
	images  ImageMap
	cgroups cgroups
	log     *slog.Logger

	appletsMu sync.Mutex
	applets   map[string]string // busybox binary → applet link dir
}

// New checks cfg and creates the directories the runtime needs.
func New(cfg Config) (*Runtime, error) {
	if len(cfg.InitArgv) == 0 {
		return nil, errors.New("runtime: InitArgv is required (how to run container-init)")
	}
	if cfg.LogDir == "" || cfg.StateDir == "" {
		return nil, errors.New("runtime: LogDir and StateDir are required")
	}
	if cfg.CgroupRoot != "" && !filepath.IsAbs(cfg.CgroupRoot) {
		return nil, fmt.Errorf("runtime: CgroupRoot %q is not an absolute path", cfg.CgroupRoot)
	}
	for _, d := range []string{cfg.LogDir, cfg.StateDir, cfg.CgroupRoot} {
		if d == "" {
			continue
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("runtime: create %s: %w", d, err)
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Runtime{
		cfg:     cfg,
		images:  DefaultImages(cfg.RudderBinary).Merge(cfg.Images),
		cgroups: cgroups{root: cfg.CgroupRoot},
		log:     cfg.Logger,
		applets: map[string]string{},
	}, nil
}

// ContainerSpec is one container instance to start.
type ContainerSpec struct {
	PodUID, PodNamespace, PodName string
	Name                          string
	RestartCount                  int
	Image                         string
	Command, Args                 []string
	Env                           []string // KEY=value, over the image's
	WorkingDir                    string
	NetNS                         string // path of the pod's netns; "" = the node's (hostNetwork)
	Hostname                      string // "" = keep the node's
	Mounts                        []Mount
}

// Mount is a bind mount of a host file or directory into a container;
// a missing target is created (on the host file system).
type Mount struct {
	Source, Target string
	ReadOnly       bool
}

// StartError is a container whose program could not be started (not
// found, a mount failed, …). Reason is "StartError".
type StartError struct {
	Reason, Message string
}

func (e *StartError) Error() string { return e.Message }

// LogPath is the log file of a container instance (see the LogPath
// function).
func (r *Runtime) LogPath(namespace, pod, uid, container string, restartCount int) string {
	return LogPath(r.cfg.LogDir, namespace, pod, uid, container, restartCount)
}

// ListPods returns the UIDs of pods that have a cgroup, including ones
// left by an earlier kubelet; nil without cgroups.
func (r *Runtime) ListPods() ([]string, error) {
	if !r.cgroups.enabled() {
		return nil, nil
	}
	return r.cgroups.pods()
}

// KillPod ends every process in the pod's cgroup and removes it. Without
// cgroups it does nothing: stop the containers one by one.
func (r *Runtime) KillPod(uid string) error {
	if !r.cgroups.enabled() {
		return nil
	}
	if err := validName("pod UID", uid); err != nil {
		return err
	}
	dir := r.cgroups.podDir(uid)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("kill pod %s: %w", uid, err)
	}
	var errs []error
	for _, e := range entries {
		if e.IsDir() {
			errs = append(errs, r.cgroups.kill(filepath.Join(dir, e.Name()), 5*time.Second))
		}
	}
	errs = append(errs, r.cgroups.remove(dir, 5*time.Second))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("kill pod %s: %w", uid, err)
	}
	return nil
}

// validName rejects names that would escape their directory.
func validName(what, s string) error {
	if s == "" || s == "." || s == ".." || strings.ContainsAny(s, "/\x00") {
		return fmt.Errorf("invalid %s %q", what, s)
	}
	return nil
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
