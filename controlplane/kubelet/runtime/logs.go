package runtime

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MaxLogLine is the longest content of one CRI log record; longer lines
// are split into partial (P) records.
const MaxLogLine = 16 * 1024

// PodLogDir is the directory holding the logs of one pod:
// <logDir>/<namespace>_<pod>_<uid>.
func PodLogDir(logDir, namespace, pod, uid string) string {
	return filepath.Join(logDir, namespace+"_"+pod+"_"+uid)
}

// LogPath is the log file of one container instance:
// <logDir>/<namespace>_<pod>_<uid>/<container>/<restartCount>.log.
func LogPath(logDir, namespace, pod, uid, container string, restartCount int) string {
	return filepath.Join(PodLogDir(logDir, namespace, pod, uid), container, strconv.Itoa(restartCount)+".log")
}

// LatestLogs returns the log files of the newest and the one before it
// ("" when there is none) of a container, for `kubectl logs [--previous]`.
func LatestLogs(logDir, namespace, pod, uid, container string) (current, previous string, err error) {
	dir := filepath.Join(PodLogDir(logDir, namespace, pod, uid), container)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", "", fmt.Errorf("list logs of container %s: %w", container, err)
	}
	var counts []int
	for _, e := range entries {
		n, err := strconv.Atoi(strings.TrimSuffix(e.Name(), ".log"))
		if err == nil && strings.HasSuffix(e.Name(), ".log") {
			counts = append(counts, n)
		}
	}
	if len(counts) == 0 {
		return "", "", fmt.Errorf("no logs of container %s in %s: %w", container, dir, os.ErrNotExist)
	}
	sort.Ints(counts)
	name := func(n int) string { return filepath.Join(dir, strconv.Itoa(n)+".log") }
	current = name(counts[len(counts)-1])
	if len(counts) > 1 {
		previous = name(counts[len(counts)-2])
	}
	return current, previous, nil
}

// criLog writes the records of both streams of a container to one file
// in the CRI log format.
type criLog struct {
	mu  sync.Mutex
	w   io.Writer
	now func() time.Time
}

// record writes one record; partial says the line goes on in the next.
func (l *criLog) record(stream string, content []byte, partial bool) error {
	tag := "F"
	if partial {
		tag = "P"
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	ts := l.now().UTC().Format(time.RFC3339Nano)
	_, err := fmt.Fprintf(l.w, "%s %s %s %s\n", ts, stream, tag, content)
	return err
}

// copyStream turns r (one stream: "stdout" or "stderr") into records
// until r ends.
func (l *criLog) copyStream(stream string, r io.Reader) error {
	br := bufio.NewReaderSize(r, MaxLogLine)
	for {
		line, err := br.ReadSlice('\n')
		switch {
		case err == nil:
			if werr := l.record(stream, line[:len(line)-1], false); werr != nil {
				return werr
			}
		case errors.Is(err, bufio.ErrBufferFull):
			if werr := l.record(stream, line, true); werr != nil {
				return werr
			}
		default:
			if len(line) > 0 {
				if werr := l.record(stream, line, true); werr != nil {
					return werr
				}
			}
			if errors.Is(err, io.EOF) || errors.Is(err, os.ErrClosed) {
				return nil
			}
			return fmt.Errorf("read %s: %w", stream, err)
		}
	}
}
