package proxy

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"time"
)

// bodyRelay copies a response body from an upstream connection's reader
// r to the client's writer w, by its framing.
//
// Its two timeouts bound pauses, not the whole body, as nginx's
// proxy_read_timeout and send_timeout do: before waiting for the
// upstream it moves the upstream connection's deadline to readTimeout
// from now, and before a write to the client that may block, the
// client's write deadline to sendTimeout from now. A stream (server-sent
// events, a long download to a slow client) lives as long as data moves.
// A response that arrived whole with its head, the common case, passes
// neither point and reads no clock. With up or client nil, the deadline
// on that side is left alone (tests).
type bodyRelay struct {
	w           *bufio.Writer
	r           *bufio.Reader
	up          *h1Conn
	readTimeout time.Duration
	client      net.Conn
	cdl         *deadline // the client connection's write deadline
	sendTimeout time.Duration
}

// flush sends what w holds to the client.
func (b *bodyRelay) flush() error {
	if b.w.Buffered() == 0 {
		return nil
	}
	if b.client != nil {
		b.cdl.extend(b.client.SetWriteDeadline, time.Now(), b.sendTimeout)
	}
	return b.w.Flush()
}

// write adds p to w, which writes to the client when p does not fit.
func (b *bodyRelay) write(p []byte) error {
	if b.client != nil && len(p) > b.w.Available() {
		b.cdl.extend(b.client.SetWriteDeadline, time.Now(), b.sendTimeout)
	}
	_, err := b.w.Write(p)
	return err
}

// wait is called when r has nothing buffered: it flushes what came so
// far to the client and readies the upstream deadline for the wait.
func (b *bodyRelay) wait() error {
	if err := b.flush(); err != nil {
		return err
	}
	if b.up != nil {
		b.up.dl.extend(b.up.c.SetDeadline, time.Now(), b.readTimeout)
	}
	return nil
}

// copyN copies n bytes (n < 0: up to EOF), flushing the client's writer
// whenever the upstream has nothing buffered, so a streamed response
// reaches the client as it comes, while one that arrived whole is
// written with one system call.
func (b *bodyRelay) copyN(n int64) (int64, error) {
	var done int64
	for n < 0 || done < n {
		if b.r.Buffered() == 0 {
			if err := b.wait(); err != nil {
				return done, err
			}
			if _, err := b.r.Peek(1); err != nil {
				if err == io.EOF && n < 0 {
					return done, nil
				}
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return done, err
			}
		}
		k := b.r.Buffered()
		if n >= 0 && int64(k) > n-done {
			k = int(n - done)
		}
		p, _ := b.r.Peek(k)
		if err := b.write(p); err != nil {
			return done, err
		}
		b.r.Discard(k)
		done += int64(k)
	}
	return done, nil
}

// maxChunkLine bounds a chunk-size or trailer line.
const maxChunkLine = 4 << 10

// chunked copies a chunked body verbatim (extensions and trailers
// included), checking its framing; it returns the payload bytes.
func (b *bodyRelay) chunked() (int64, error) {
	var total int64
	for {
		line, err := b.line()
		if err != nil {
			return total, err
		}
		// As net/http reads it: white space after the line, none before
		// a ';', at most 16 digits.
		size := bytes.TrimRight(line[:len(line)-2], " \t")
		if i := bytes.IndexByte(size, ';'); i >= 0 {
			if !fieldText(size[i:]) {
				return total, errBadResponse
			}
			size = size[:i]
		}
		n, ok := parseDigits(size, 16)
		if !ok || len(size) > 16 {
			return total, errBadResponse
		}
		if err := b.write(line); err != nil {
			return total, err
		}
		if n == 0 {
			return total, b.trailers()
		}
		if _, err := b.copyN(n); err != nil {
			return total, err
		}
		total += n
		end, err := b.line()
		if err != nil || len(end) != 2 {
			return total, errBadResponse
		}
		if err := b.write(end); err != nil {
			return total, err
		}
	}
}

func (b *bodyRelay) trailers() error {
	for {
		line, err := b.line()
		if err != nil {
			return err
		}
		if len(line) > 2 {
			if _, _, ok := splitField(line[:len(line)-2]); !ok {
				return errBadResponse
			}
		}
		if err := b.write(line); err != nil {
			return err
		}
		if len(line) == 2 {
			return nil
		}
	}
}

// line reads one CRLF-terminated line, CRLF included; the slice is
// valid until the next read.
func (b *bodyRelay) line() ([]byte, error) {
	if buf, _ := b.r.Peek(b.r.Buffered()); bytes.IndexByte(buf, '\n') < 0 {
		if err := b.wait(); err != nil {
			return nil, err
		}
	}
	line, err := b.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull || (err == nil && (len(line) > maxChunkLine || len(line) < 2 || line[len(line)-2] != '\r')) {
		return nil, errBadResponse
	}
	return line, err
}
