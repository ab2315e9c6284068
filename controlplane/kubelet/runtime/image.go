package runtime

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

// Image says what a container image means on this host: which program
// runs and what it needs around it. Images are not pulled; an image is a
// name for a program that is already installed.
//
// The image map file (`rudder agent --image-map`) is YAML or JSON: a map
// from image name to Image, for example
//
//	redis:
//	  entrypoint: ["/usr/bin/redis-server"]
//	  cmd: ["--port", "6379"]
//	  env: ["LANG=C"]
//	  tmpfs: ["/var/lib/redis"]
//	  files:
//	    /etc/redis/extra.conf: "maxmemory 10mb\n"
//
// Keys are image names without registry, repository path, tag or digest
// ("redis" matches "docker.io/library/redis:7" and "ghcr.io/x/redis@sha256:…").
type Image struct {
	// Entrypoint is replaced by the container's command.
	Entrypoint []string `json:"entrypoint,omitempty"`
	// Cmd is replaced by the container's args, and dropped when the
	// container has a command but no args.
	Cmd []string `json:"cmd,omitempty"`
	// Env holds KEY=value defaults; the container's env overrides them.
	Env []string `json:"env,omitempty"`
	// WorkingDir is used when the container sets none.
	WorkingDir string `json:"workingDir,omitempty"`
	// Path lists directories put in front of PATH.
	Path []string `json:"path,omitempty"`
	// Rootfs, when set, is a directory the container is chrooted into
	// after its mounts; mount targets are then inside it.
	Rootfs string `json:"rootfs,omitempty"`
	// Tmpfs lists paths that get a private, empty, writable tmpfs.
	Tmpfs []string `json:"tmpfs,omitempty"`
	// Files maps a path in the container to the content of a file
	// generated per container and bind-mounted there.
	Files map[string]string `json:"files,omitempty"`
	// BusyboxApplets is the path of a busybox binary whose applets
	// (sh, wget, sleep, nslookup, …) are put in front of PATH.
	BusyboxApplets string `json:"busyboxApplets,omitempty"`
}

// ImageMap maps normalised image names (see NormalizeImage) to images.
type ImageMap map[string]Image

// ImageError is a container that cannot start because its image cannot be
// provided; Reason is the waiting reason upstream uses (ErrImagePull).
type ImageError struct {
	Reason, Message string
}

func (e *ImageError) Error() string { return e.Message }

// Debian paths of the programs behind the default images.
const (
	debianBusybox = "/bin/busybox"
	debianNginx   = "/usr/sbin/nginx"
)

// DefaultImages returns the built-in images: rudder (and agnhost, whose
// netexec-style args rudder understands) run rudderBinary; busybox runs
// Debian's busybox applets; nginx runs Debian's nginx in the foreground,
// serving /var/www/html on port 80 and logging requests to stdout.
func DefaultImages(rudderBinary string) ImageMap {
	rudder := Image{Entrypoint: []string{rudderBinary}}
	return ImageMap{
		"rudder":  rudder,
		"agnhost": rudder,
		"busybox": {Cmd: []string{"sh"}, BusyboxApplets: debianBusybox},
		"nginx": {
			Entrypoint: []string{debianNginx, "-e", "stderr"},
			Tmpfs:      []string{"/var/lib/nginx", "/var/log/nginx"},
			Files:      map[string]string{"/etc/nginx/nginx.conf": nginxConfig},
		},
	}
}

// nginxConfig runs nginx in the foreground with everything it writes in
// the container's private tmpfs, errors on stderr and requests on stdout.
const nginxConfig = `daemon off;
worker_processes 1;
pid /var/lib/nginx/nginx.pid;
error_log stderr notice;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log /dev/stdout;
    client_body_temp_path /var/lib/nginx/body;
    proxy_temp_path /var/lib/nginx/proxy;
    fastcgi_temp_path /var/lib/nginx/fastcgi;
    uwsgi_temp_path /var/lib/nginx/uwsgi;
    scgi_temp_path /var/lib/nginx/scgi;
    server {
        listen 80 default_server;
        root /var/www/html;
        index index.html index.htm index.nginx-debian.html;
        location / { try_files $uri $uri/ =404; }
    }
}
`

// LoadImageMap reads an image map file (YAML or JSON, see Image). Its
// entries are meant to be given as Config.Images, where they override the
// defaults of the same name.
func LoadImageMap(path string) (ImageMap, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read image map: %w", err)
	}
	var raw map[string]Image
	if err := yaml.UnmarshalStrict(data, &raw); err != nil {
		return nil, fmt.Errorf("parse image map %s: %w", path, err)
	}
	m := ImageMap{}
	for ref, img := range raw {
		name := NormalizeImage(ref)
		if name == "" {
			return nil, fmt.Errorf("image map %s: empty image name %q", path, ref)
		}
		m[name] = img
	}
	return m, nil
}

// Merge returns m with the entries of over added, replacing same names.
func (m ImageMap) Merge(over ImageMap) ImageMap {
	out := maps.Clone(m)
	if out == nil {
		out = ImageMap{}
	}
	for k, v := range over {
		out[NormalizeImage(k)] = v
	}
	return out
}

// NormalizeImage reduces an image reference to its bare name: registry,
// repository path, tag and digest are dropped and the result is lower case.
func NormalizeImage(ref string) string {
	ref = strings.TrimSpace(ref)
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndexByte(ref, '/'); i >= 0 {
		ref = ref[i+1:]
	}
	if i := strings.IndexByte(ref, ':'); i >= 0 {
		ref = ref[:i]
	}
	return strings.ToLower(ref)
}

// Lookup finds the image for ref; an unknown image is an *ImageError.
func (m ImageMap) Lookup(ref string) (Image, error) {
	img, ok := m[NormalizeImage(ref)]
	if !ok {
		return Image{}, &ImageError{Reason: "ErrImagePull", Message: fmt.Sprintf(
			"image %q is not known on this node: rudder runs host programs, not image files; "+
				"add an entry for %q to the image map file given to `rudder agent --image-map` "+
				"(known images: %s)", ref, NormalizeImage(ref), strings.Join(slices.Sorted(maps.Keys(m)), ", "))}
	}
	return img, nil
}

// checkInstalled reports an *ImageError when a program the image needs is
// missing on the host.
func checkInstalled(ref string, img Image) error {
	if len(img.Entrypoint) > 0 && img.Entrypoint[0] == "" {
		return &ImageError{Reason: "ErrImagePull", Message: fmt.Sprintf(
			"image %q has an empty entrypoint (for the rudder image: the runtime's RudderBinary is not set)", ref)}
	}
	var need []string
	if img.BusyboxApplets != "" {
		need = append(need, img.BusyboxApplets)
	}
	if len(img.Entrypoint) > 0 && filepath.IsAbs(img.Entrypoint[0]) {
		need = append(need, filepath.Join(img.Rootfs, img.Entrypoint[0]))
	}
	if img.Rootfs != "" {
		need = append(need, img.Rootfs)
	}
	for _, p := range need {
		if _, err := os.Stat(p); err != nil {
			hint := "add an entry to the image map file given to `rudder agent --image-map`"
			switch p {
			case debianBusybox, debianNginx:
				hint = "install the Debian package (`make deps`), or " + hint
			}
			return &ImageError{Reason: "ErrImagePull", Message: fmt.Sprintf(
				"image %q needs %s, which is not on this node: %s", ref, p, hint)}
		}
	}
	return nil
}

// ResolveArgv applies Kubernetes semantics: command replaces the
// entrypoint, args replace cmd, and a command without args drops cmd.
func ResolveArgv(img Image, command, args []string) ([]string, error) {
	var argv []string
	switch {
	case len(command) > 0:
		argv = append(slices.Clone(command), args...)
	case len(args) > 0:
		argv = append(slices.Clone(img.Entrypoint), args...)
	default:
		argv = append(slices.Clone(img.Entrypoint), img.Cmd...)
	}
	if len(argv) == 0 || argv[0] == "" {
		return nil, errors.New("no command to run: the container sets no command and its image has no entrypoint or cmd")
	}
	return argv, nil
}

// DefaultPath is PATH when neither the image nor the container sets one.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// MergeEnv returns base overridden by over (KEY=value lists; later
// entries win), in first-seen order, with PATH set (DefaultPath when
// missing) and prefix directories put in front of it.
func MergeEnv(base, over []string, prefix ...string) []string {
	var keys []string
	vals := map[string]string{}
	for _, kv := range slices.Concat(base, over) {
		k, v, _ := strings.Cut(kv, "=")
		if k == "" {
			continue
		}
		if _, seen := vals[k]; !seen {
			keys = append(keys, k)
		}
		vals[k] = v
	}
	if _, ok := vals["PATH"]; !ok {
		keys = append(keys, "PATH")
		vals["PATH"] = DefaultPath
	}
	if len(prefix) > 0 {
		vals["PATH"] = strings.Join(append(slices.Clone(prefix), vals["PATH"]), ":")
	}
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, k+"="+vals[k])
	}
	return out
}

// lookPath finds file like a shell would, using the given PATH value
// instead of the current process's.
func lookPath(file, path string) (string, error) {
	if strings.Contains(file, "/") {
		if err := executable(file); err != nil {
			return "", fmt.Errorf("exec %q: %w", file, err)
		}
		return file, nil
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, file)
		if executable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("exec %q: executable file not found in $PATH (%s)", file, path)
}

func executable(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if st.IsDir() || st.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", p)
	}
	return nil
}
