package proxy

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/textproto"
	"strings"
	"testing"

	"golang.org/x/net/http/httpguts"
)

// The wire path parses HTTP/1.1 itself and net/http does everywhere
// else, so the two must never read the same bytes differently: a message
// whose end one of them places elsewhere than the other is how requests
// and responses get smuggled. These fuzzers hold the wire path's parsers
// to that: whatever they accept, net/http accepts too and reads the same
// way, to the same byte. (The wire path may refuse more; a refused
// request goes to net/http, a refused response is a 502.)

// requestSeeds are heads the wire path takes or must refuse; go test
// runs them, go test -fuzz starts from them.
var requestSeeds = []string{
	"GET /a?b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	"HEAD / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\nGET / HTTP/1.1\r\nHost: y\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: +0\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n",
	"GET / HTTP/1.1\nHost: x\n\n",
	"GET / HTTP/1.1\r\nHost: x\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n c\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nA:\xff\xfe\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nA: b\rc\r\n\r\n",
	"GET /?a=b?c HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET /a\\b HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET / HTTP/1.1\r\nhost: x\r\nconnection: keep-alive, close\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nConnection: ,,close,\r\n\r\n",
}

func FuzzParseRequest(f *testing.F) {
	for _, s := range requestSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		i := bytes.Index(in, crlf2)
		if i < 0 {
			if hasBareLF(in) {
				return // handed to net/http before a head is complete
			}
			in = append(in[:len(in):len(in)], crlf2...)
			i = len(in) - 4
		}
		var h reqHead
		if !parseRequest(in[:i+4], &h) {
			return
		}
		br := bufio.NewReader(bytes.NewReader(in))
		req, err := http.ReadRequest(br)
		if err != nil {
			t.Fatalf("the wire path takes %q, net/http refuses it: %v", in, err)
		}
		if why := serverRefuses(req); why != "" {
			t.Fatalf("the wire path takes %q, net/http's server answers 400: %s", in, why)
		}
		if rest, _ := io.ReadAll(br); !bytes.Equal(rest, in[h.size:]) {
			t.Fatalf("%q: the head ends at byte %d for the wire path, %d for net/http", in, h.size, len(in)-len(rest))
		}
		if req.Method != string(h.method) || req.RequestURI != string(h.target) || req.Host != string(h.host) ||
			req.Close != h.closeConn || req.ContentLength != 0 || req.TransferEncoding != nil {
			t.Fatalf("%q: net/http reads %s %s host %q close %v length %d TE %v; the wire path %+v",
				in, req.Method, req.RequestURI, req.Host, req.Close, req.ContentLength, req.TransferEncoding, h)
		}
		sameFields(t, in, h.fields, req.Header)
	})
}

// serverRefuses is what http.Server checks past ReadRequest before it
// calls a handler.
func serverRefuses(req *http.Request) string {
	if !httpguts.ValidHostHeader(req.Host) { // ReadRequest moved it out of Header
		return "malformed Host header"
	}
	for k, vv := range req.Header {
		if !httpguts.ValidHeaderFieldName(k) {
			return "invalid header name " + k
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return "invalid header value " + v
			}
		}
	}
	return ""
}

// sameFields checks that every field the wire path saw is in hdr with
// the same value, and that it saw as many.
func sameFields(t *testing.T, in []byte, fields []field, hdr http.Header) {
	t.Helper()
	n := 0
	for _, vv := range hdr {
		n += len(vv)
	}
	if _, ok := hdr["Host"]; !ok {
		n++ // net/http moves Host out of the header map of a request
	}
	if n != len(fields) {
		t.Fatalf("%q: the wire path reads %d fields, net/http %d", in, len(fields), n)
	}
	for _, f := range fields {
		k := textproto.CanonicalMIMEHeaderKey(string(f.name))
		if k == "Host" {
			continue
		}
		found := false
		for _, v := range hdr[k] {
			found = found || v == string(f.value)
		}
		if !found {
			t.Fatalf("%q: field %s: %q for the wire path, %q for net/http", in, k, f.value, hdr[k])
		}
	}
}

var responseSeeds = []string{
	"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
	"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
	"HTTP/1.0 204\r\nTransfer-Encoding: chunked\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc",
	"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
	"HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nabc",
	"HTTP/1.1 200 OK\r\nContent-Length:  03 \r\n\r\nabc",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
	"HTTP/1.1 304 Not Modified\r\nContent-Length: 3\r\n\r\n",
	"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nto the end",
	"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx",
	"HTTP/1.1 +20 OK\r\n\r\n",
	"HTTP/1.1 099 OK\r\n\r\n",
	"HTTP/1.1 200 OK\nContent-Length: 1\n\nx",
}

func FuzzParseResponse(f *testing.F) {
	for _, s := range responseSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		i := bytes.Index(in, crlf2)
		if i < 0 {
			return // never complete for the wire path: its read times out
		}
		var h respHead
		if parseResponse(in[:i+4], &h) != nil || h.status < 200 {
			return // 1xx: the wire path reads the next head, not this one's body
		}
		br := bufio.NewReader(bytes.NewReader(in))
		resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
		if err != nil {
			t.Fatalf("the wire path takes %q, net/http refuses it: %v", in, err)
		}
		if br.Buffered() != len(in)-h.size {
			t.Fatalf("%q: the head ends at byte %d for the wire path, %d for net/http", in, h.size, len(in)-br.Buffered())
		}
		chunked := len(resp.TransferEncoding) > 0
		wantLength := h.contentLength
		if bodyless(nil, h.status) {
			chunked, wantLength = h.chunked, 0
		} else if chunked {
			wantLength = -1
		}
		if resp.StatusCode != h.status || chunked != h.chunked || (!h.chunked && !bodyless(nil, h.status) && resp.ContentLength != wantLength) {
			t.Fatalf("%q: net/http reads status %d length %d TE %v; the wire path %+v", in, resp.StatusCode, resp.ContentLength, resp.TransferEncoding, h)
		}
		delimited := !h.chunked && h.contentLength < 0 && !bodyless(nil, h.status)
		if resp.Close != (h.closeConn || delimited) {
			t.Fatalf("%q: close %v for net/http, %v for the wire path", in, resp.Close, h.closeConn)
		}
	})
}

func FuzzCopyChunked(f *testing.F) {
	for _, s := range []string{
		"5;ext=1\r\nhello\r\n1\r\n!\r\n0\r\nX-Sum: 6\r\n\r\n",
		"0\r\n\r\nnext",
		"+5\r\nhello\r\n0\r\n\r\n",
		"-0\r\n\r\n",
		"5 \r\nhello\r\n0\r\n\r\n",
		"05 ; a=b\r\nhello\r\n0\r\n\r\n",
		"0\r\nA: b\rc\r\n\r\n",
		"0\r\nA b: c\r\n\r\n",
		"0\r\n: c\r\n\r\n",
		"10000000000000000\r\n",
		" 5\r\nhello\r\n0\r\n\r\n",
		"00000000000000005\r\nhello\r\n0\r\n\r\n",
		"5\r\nhello\n0\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bufio.NewReader(bytes.NewReader(in))
		var out bytes.Buffer
		w := bufio.NewWriter(&out)
		n, err := (&bodyRelay{w: w, r: r}).chunked()
		w.Flush()
		if err != nil {
			return
		}
		if !bytes.Equal(out.Bytes(), in[:len(in)-r.Buffered()]) {
			t.Fatalf("%q: copied %q, not the input verbatim", in, out.Bytes())
		}
		msg := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + string(in)
		br := bufio.NewReader(strings.NewReader(msg))
		resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("%q: the wire path copies %d bytes, net/http fails: %v", in, n, err)
		}
		if int64(len(body)) != n || br.Buffered() != r.Buffered() {
			t.Fatalf("%q: the wire path reads %d bytes and leaves %d, net/http %d and %d", in, n, r.Buffered(), len(body), br.Buffered())
		}
	})
}
