package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Start runs a container and returns once its program has been executed,
// or the reason it could not: an *ImageError for an unknown or missing
// image, a *StartError when container-init failed (program not found,
// mount failure, …).
func (r *Runtime) Start(ctx context.Context, s ContainerSpec) (*Container, error) {
	if err := validateSpec(s); err != nil {
		return nil, err
	}
	img, err := r.images.Lookup(s.Image)
	if err != nil {
		return nil, err
	}
	if err := checkInstalled(s.Image, img); err != nil {
		return nil, err
	}
	argv, err := ResolveArgv(img, s.Command, s.Args)
	if err != nil {
		return nil, &StartError{Reason: "StartError", Message: err.Error()}
	}
	prefix := slices.Clone(img.Path)
	if img.BusyboxApplets != "" {
		dir, err := r.busyboxApplets(ctx, img.BusyboxApplets)
		if err != nil {
			return nil, err
		}
		prefix = append(prefix, dir)
	}
	c := &Container{
		id:      newID(),
		spec:    s,
		rootfs:  img.Rootfs,
		env:     MergeEnv(img.Env, s.Env, prefix...),
		dir:     firstNonEmpty(s.WorkingDir, img.WorkingDir),
		logPath: r.LogPath(s.PodNamespace, s.PodName, s.PodUID, s.Name, s.RestartCount),
		done:    make(chan struct{}),
	}
	c.stateDir = filepath.Join(r.cfg.StateDir, "containers", c.id)
	mounts, err := c.mounts(img)
	if err != nil {
		_ = os.RemoveAll(c.stateDir)
		return nil, err
	}
	spec := initSpec{Argv: argv, Env: c.env, Dir: c.dir, NetNS: s.NetNS, Rootfs: img.Rootfs, Mounts: mounts}
	if s.NetNS != "" {
		spec.Hostname = s.Hostname // only with a new UTS namespace
	}
	if err := r.launch(ctx, c, spec); err != nil {
		_ = os.RemoveAll(c.stateDir)
		return nil, err
	}
	r.log.Info("container started", "pod", s.PodNamespace+"/"+s.PodName, "container", s.Name,
		"restart", s.RestartCount, "id", c.id, "pid", c.pid, "argv", argv)
	return c, nil
}

func validateSpec(s ContainerSpec) error {
	for what, v := range map[string]string{"pod UID": s.PodUID, "pod namespace": s.PodNamespace,
		"pod name": s.PodName, "container name": s.Name} {
		if err := validName(what, v); err != nil {
			return fmt.Errorf("start container: %w", err)
		}
	}
	if s.RestartCount < 0 {
		return fmt.Errorf("start container %s: negative restart count %d", s.Name, s.RestartCount)
	}
	for _, m := range s.Mounts {
		if !filepath.IsAbs(m.Source) || !filepath.IsAbs(m.Target) {
			return fmt.Errorf("start container %s: mount %q → %q: paths must be absolute", s.Name, m.Source, m.Target)
		}
	}
	return nil
}

// mounts lists the container's mounts in order: the image's tmpfs, the
// image's generated files, then the spec's mounts.
func (c *Container) mounts(img Image) ([]initMount, error) {
	var ms []initMount
	for _, t := range img.Tmpfs {
		ms = append(ms, initMount{Target: t, Tmpfs: true})
	}
	if len(img.Files) > 0 {
		dir := filepath.Join(c.stateDir, "files")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("start container %s: %w", c.spec.Name, err)
		}
		for i, target := range slices.Sorted(maps.Keys(img.Files)) {
			src := filepath.Join(dir, fmt.Sprintf("%d-%s", i, filepath.Base(target)))
			if err := os.WriteFile(src, []byte(img.Files[target]), 0o644); err != nil {
				return nil, fmt.Errorf("start container %s: write image file %s: %w", c.spec.Name, target, err)
			}
			ms = append(ms, initMount{Source: src, Target: target, ReadOnly: true})
		}
	}
	for _, m := range c.spec.Mounts {
		ms = append(ms, initMount{Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly})
	}
	return ms, nil
}

// initPipes are the pipes between the runtime and container-init: the
// spec going in, an init failure and the two output streams coming out.
type initPipes struct {
	specR, specW, errR, errW, outR, outW, stderrR, stderrW *os.File
}

func openPipes() (*initPipes, error) {
	p := &initPipes{}
	for _, ends := range [][2]**os.File{{&p.specR, &p.specW}, {&p.errR, &p.errW},
		{&p.outR, &p.outW}, {&p.stderrR, &p.stderrW}} {
		r, w, err := os.Pipe()
		if err != nil {
			p.closeParentEnds()
			p.closeChildEnds()
			return nil, fmt.Errorf("create pipe: %w", err)
		}
		*ends[0], *ends[1] = r, w
	}
	return p, nil
}

// closeChildEnds closes the runtime's copies of container-init's ends.
func (p *initPipes) closeChildEnds() {
	closeFiles(p.specR, p.errW, p.outW, p.stderrW)
}

func (p *initPipes) closeParentEnds() {
	closeFiles(p.specW, p.errR, p.outR, p.stderrR)
}

func closeFiles(fs ...*os.File) {
	for _, f := range fs {
		if f != nil {
			_ = f.Close()
		}
	}
}

// initCommand is container-init for spec, in a new mount namespace (and
// a new UTS namespace when the pod has its own network).
func (r *Runtime) initCommand(spec initSpec, p *initPipes) *exec.Cmd {
	cmd := &exec.Cmd{
		Path:        r.cfg.InitArgv[0],
		Args:        r.cfg.InitArgv,
		Env:         []string{initEnvMarker + "=1"},
		Stdout:      p.outW,
		Stderr:      p.stderrW,
		ExtraFiles:  []*os.File{p.specR, p.errW}, // initSpecFD, initErrorFD
		SysProcAttr: &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS, Setpgid: true},
	}
	if spec.NetNS != "" {
		cmd.SysProcAttr.Cloneflags |= syscall.CLONE_NEWUTS
	}
	return cmd
}

// launch starts container-init with its pipes, log copiers and cgroup,
// and waits until the program runs or init reports a failure.
func (r *Runtime) launch(ctx context.Context, c *Container, spec initSpec) error {
	p, err := openPipes()
	if err != nil {
		return fmt.Errorf("start container %s: %w", c.spec.Name, err)
	}
	defer p.closeChildEnds()
	logFile, err := openLog(c.logPath)
	if err != nil {
		p.closeParentEnds()
		return fmt.Errorf("start container %s: %w", c.spec.Name, err)
	}
	cmd := r.initCommand(spec, p)
	if r.cgroups.enabled() {
		c.cgroup = r.cgroups.containerDir(c.spec.PodUID, c.spec.Name, c.spec.RestartCount)
		cg, err := r.cgroups.create(c.cgroup)
		if err != nil {
			p.closeParentEnds()
			closeFiles(logFile)
			return fmt.Errorf("start container %s: %w", c.spec.Name, err)
		}
		defer cg.Close()
		cmd.SysProcAttr.UseCgroupFD = true
		cmd.SysProcAttr.CgroupFD = int(cg.Fd())
	}
	if err := cmd.Start(); err != nil {
		p.closeParentEnds()
		closeFiles(logFile)
		if c.cgroup != "" {
			_ = r.cgroups.remove(c.cgroup, time.Second)
		}
		return fmt.Errorf("start container %s: run container-init %s: %w", c.spec.Name, r.cfg.InitArgv[0], err)
	}
	p.closeChildEnds()
	c.pid = cmd.Process.Pid
	go func() {
		_ = json.NewEncoder(p.specW).Encode(spec)
		_ = p.specW.Close()
	}()
	c.startLogs(logFile, p.outR, p.stderrR)
	msg, cancelled := initResult(ctx, p.errR, cmd.Process)
	c.startedAt = time.Now()
	go c.wait(r, cmd)
	switch {
	case cancelled != nil:
		<-c.done
		return fmt.Errorf("start container %s: %w", c.spec.Name, cancelled)
	case msg != "":
		<-c.done
		return &StartError{Reason: "StartError", Message: fmt.Sprintf("container %s: %s", c.spec.Name, msg)}
	}
	return nil
}

// initResult waits until container-init has executed the program (the
// error pipe closes empty) or reported why it could not. When ctx ends
// first, init is killed and ctx's error returned.
func initResult(ctx context.Context, errPipe *os.File, p *os.Process) (msg string, cancelled error) {
	ch := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(errPipe)
		_ = errPipe.Close()
		ch <- strings.TrimSpace(string(b))
	}()
	select {
	case msg := <-ch:
		return msg, nil
	case <-ctx.Done():
		_ = p.Kill()
		return "", ctx.Err()
	}
}

func openLog(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create log directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open container log: %w", err)
	}
	return f, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
