package proxy

// bufferPool is an httputil.BufferPool: a bounded free list of copy
// buffers (a channel, so Put does not allocate as sync.Pool would).
type bufferPool struct {
	free chan []byte
	size int
}

func newBufferPool(n, size int) *bufferPool {
	return &bufferPool{free: make(chan []byte, n), size: size}
}

// Get returns a buffer of the pool's size.
func (p *bufferPool) Get() []byte {
	select {
	case b := <-p.free:
		return b
	default:
		return make([]byte, p.size)
	}
}

// Put returns a buffer to the pool, dropping it when the pool is full.
func (p *bufferPool) Put(b []byte) {
	if cap(b) < p.size {
		return
	}
	select {
	case p.free <- b[:p.size]:
	default:
	}
}
