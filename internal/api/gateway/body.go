package gateway

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"hash"
	"io"
	"net/http"
	"os"
	"sync"
	"time"
)

// Why a body was not read.
var (
	errTooLarge = errors.New("gateway: request body too large")
	errNoMemory = errors.New("gateway: request body memory budget exhausted")
)

// chunkSize is the size of the pooled pieces large bodies are read into: a released body's pieces serve the next
// one, so that memory follows the budget rather than the garbage collector's pace.
const chunkSize = 1 << 20

var chunks = sync.Pool{New: func() any { return new([chunkSize]byte) }}

// body is a request body held in memory, in pieces of at most chunkSize bytes; full-size pieces come from chunks.
type body struct {
	pieces [][]byte
	held   int64             // bytes of the memory budget it holds
	sum    [sha256.Size]byte // the body's SHA-256, when asked for
}

// reader reads the body from the start.
func (b *body) reader() io.Reader { return &piecesReader{pieces: b.pieces} }

// bytes returns the body in one slice (for small bodies: a larger one is copied).
func (b *body) bytes() []byte {
	if len(b.pieces) == 1 {
		return b.pieces[0]
	}
	return bytes.Join(b.pieces, nil)
}

type piecesReader struct {
	pieces [][]byte
	i, off int
}

func (r *piecesReader) Read(p []byte) (int, error) {
	for r.i < len(r.pieces) && r.off == len(r.pieces[r.i]) {
		r.i, r.off = r.i+1, 0
	}
	if r.i == len(r.pieces) {
		return 0, io.EOF
	}
	n := copy(p, r.pieces[r.i][r.off:])
	r.off += n
	return n, nil
}

// acquire takes n bytes from the memory budget if they are there.
func (g *Gateway) acquire(n int64) bool {
	limit := g.MaxBodyMemory
	if limit <= 0 {
		limit = DefaultMaxBodyMemory
	}
	for {
		used := g.inUse.Load()
		if used+n > limit {
			return false
		}
		if g.inUse.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

// release gives a body's memory back: its pooled pieces to the pool, its bytes to the budget. The handler that was
// given the body has returned, so nothing reads it any more.
func (g *Gateway) release(b *body) {
	for _, p := range b.pieces {
		if cap(p) == chunkSize {
			chunks.Put((*[chunkSize]byte)(p[:chunkSize]))
		}
	}
	b.pieces = nil
	g.inUse.Add(-b.held)
	b.held = 0
}

// readBody reads r's body, at most limit bytes, within the memory budget and under a read deadline (see
// readDeadline), hashing it with SHA-256 if asked. A body of known length takes its whole size from the budget
// before anything is read; one of unknown length (chunked) takes it a piece at a time as it arrives. The errors
// are errTooLarge and errNoMemory, the deadline's os.ErrDeadlineExceeded, and whatever else reading failed with.
func (g *Gateway) readBody(w http.ResponseWriter, r *http.Request, limit int64, hashed bool) (*body, error) {
	b := &body{}
	known := r.ContentLength >= 0
	if known {
		if r.ContentLength > limit {
			return nil, errTooLarge
		}
		if !g.acquire(r.ContentLength) {
			return nil, errNoMemory
		}
		b.held = r.ContentLength
	}
	var h hash.Hash
	if hashed {
		h = sha256.New()
	}
	if r.ContentLength != 0 {
		rc := http.NewResponseController(w)
		defer rc.SetReadDeadline(time.Time{}) // a served request's connection has no read deadline
		src := &pacedReader{r: r.Body, deadline: rc.SetReadDeadline, start: time.Now(), now: time.Now,
			timeout: g.readTimeout(), rate: g.minReadRate()}
		if err := g.fill(b, src, h, r.ContentLength, limit); err != nil {
			g.release(b)
			return nil, err
		}
	}
	if h != nil {
		h.Sum(b.sum[:0])
	}
	return b, nil
}

// fill reads src into b's pieces: size bytes if size >= 0, else to its end but no more than limit.
func (g *Gateway) fill(b *body, src io.Reader, h hash.Hash, size, limit int64) error {
	var read int64
	for {
		n := int64(chunkSize)
		if size >= 0 {
			n = min(n, size-read)
			if n == 0 {
				return nil
			}
		} else {
			if read > limit {
				return errTooLarge
			}
			n = min(n, limit+1-read)
			if !g.acquire(n) {
				return errNoMemory
			}
			b.held += n
		}
		var p []byte
		if n == chunkSize {
			p = chunks.Get().(*[chunkSize]byte)[:]
		} else {
			p = make([]byte, n)
		}
		got, err := io.ReadFull(src, p)
		b.pieces = append(b.pieces, p[:got])
		read += int64(got)
		if h != nil {
			h.Write(p[:got])
		}
		switch {
		case size < 0 && (err == io.EOF || err == io.ErrUnexpectedEOF):
			return nil
		case err == io.EOF:
			return io.ErrUnexpectedEOF // shorter than its Content-Length
		case err != nil:
			return err
		}
	}
}

func (g *Gateway) readTimeout() time.Duration {
	if g.ReadTimeout > 0 {
		return g.ReadTimeout
	}
	return DefaultReadTimeout
}

func (g *Gateway) minReadRate() int64 {
	if g.MinReadRate > 0 {
		return g.MinReadRate
	}
	return DefaultMinReadRate
}

// pacedReader reads an upload under a read deadline renewed before every read (see readDeadline).
type pacedReader struct {
	r        io.Reader
	deadline func(time.Time) error // the connection's SetReadDeadline
	start    time.Time
	now      func() time.Time
	timeout  time.Duration
	rate     int64
	n        int64 // bytes read so far
}

func (p *pacedReader) Read(b []byte) (int, error) {
	_ = p.deadline(readDeadline(p.start, p.now(), p.n, p.timeout, p.rate)) // unsupported (not a server connection): no deadline
	n, err := p.r.Read(b)
	p.n += int64(n)
	return n, err
}

// readDeadline is when more of an upload that started at start and has delivered n bytes must have arrived: it
// may stall for at most timeout, and may not fall behind rate bytes per second by more than timeout. So a body of
// n bytes is read within timeout + n/rate, and a stalled one loses its connection timeout after its last byte.
func readDeadline(start, now time.Time, n int64, timeout time.Duration, rate int64) time.Time {
	paced := start.Add(timeout + time.Duration(n)*time.Second/time.Duration(rate))
	if stall := now.Add(timeout); stall.Before(paced) {
		return stall
	}
	return paced
}

// bodyError answers a body that was not read, in the protocol of service. The connection is closed.
func (g *Gateway) bodyError(w http.ResponseWriter, r *http.Request, service string, err error) {
	w.Header().Set("Connection", "close")
	switch {
	case errors.Is(err, errTooLarge):
		g.writeREST(w, r, tooLarge(r))
	case errors.Is(err, errNoMemory):
		g.throttle(w, r, service)
	case errors.Is(err, os.ErrDeadlineExceeded):
		g.Log.Info("request body too slow", "method", r.Method, "path", r.URL.Path, "request_id", requestID(r))
		g.refuse(w, r, service, codeRequestTimeout, http.StatusRequestTimeout,
			"The request body was not received in time: it stalled, or arrived slower than the server reads uploads.")
	default:
		g.writeREST(w, r, invalidContent(err))
	}
}
