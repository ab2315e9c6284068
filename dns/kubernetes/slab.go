package kubernetes

// slab hands out small slices from big chunks, to allocate less.
type slab[T any] struct{ buf []T }

// one returns a slice holding v with capacity 1, so appending to it
// reallocates instead of overwriting the neighbours.
func (s *slab[T]) one(v T) []T {
	if len(s.buf) == cap(s.buf) {
		s.buf = make([]T, 0, 1024)
	}
	s.buf = append(s.buf, v)
	i := len(s.buf) - 1
	return s.buf[i : i+1 : i+1]
}

// add appends v to dst, taking the first element from the slab.
func add[T any](s *slab[T], dst []T, v T) []T {
	if dst == nil {
		return s.one(v)
	}
	return append(dst, v)
}

// bytes copies b into the slab.
func (s *slab[T]) bytes(b []T) []T {
	if cap(s.buf)-len(s.buf) < len(b) {
		s.buf = make([]T, 0, 4096)
	}
	i := len(s.buf)
	s.buf = append(s.buf, b...)
	return s.buf[i:len(s.buf):len(s.buf)]
}
