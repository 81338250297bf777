// Package sweepmap is a bounded map for per-person state that stops
// mattering at an instant the value itself tells (a bucket full again, a
// token expired): such entries are swept as the map doubles, and when it
// reaches its bound; if it is still full then, arbitrary entries go, an
// eighth of the bound, so that a map full of live entries is swept once
// per eighth of its size inserted, not on every insert. It is the memory
// of an LRU without its list and per-entry allocations, for caches where
// forgetting an arbitrary entry early costs little.
//
// A Map is not safe for concurrent use: its owner holds its own lock.
package sweepmap

// sweepFloor is the size below which the map is not swept as it grows.
const sweepFloor = 1024

// Map holds at most size entries.
type Map[K comparable, V any] struct {
	m         map[K]V
	size      int
	nextSweep int
	// done reports whether v no longer matters at now (unix nanoseconds).
	done func(v V, now int64) bool
}

// New returns a map of at most size entries (at least 1) whose entries
// stop mattering when done says so.
func New[K comparable, V any](size int, done func(v V, now int64) bool) *Map[K, V] {
	return &Map[K, V]{m: map[K]V{}, size: max(size, 1), nextSweep: sweepFloor, done: done}
}

// Get returns k's value, done or not: what a done entry means is the
// owner's to say.
func (s *Map[K, V]) Get(k K) (V, bool) {
	v, ok := s.m[k]
	return v, ok
}

// Put sets k's value, first making room when k is new.
func (s *Map[K, V]) Put(k K, v V, now int64) {
	if _, ok := s.m[k]; !ok {
		s.makeRoom(now)
	}
	s.m[k] = v
}

// Len is the number of entries, done ones included until swept.
func (s *Map[K, V]) Len() int { return len(s.m) }

// makeRoom sweeps done entries when the map has doubled since the last
// sweep or is at its bound, and drops arbitrary entries down to seven
// eighths of the bound if it is still full.
func (s *Map[K, V]) makeRoom(now int64) {
	n := len(s.m)
	if n < s.nextSweep && n < s.size {
		return
	}
	for k, v := range s.m {
		if s.done(v, now) {
			delete(s.m, k)
		}
	}
	if len(s.m) >= s.size {
		keep := s.size - max(s.size/8, 1)
		for k := range s.m {
			if len(s.m) <= keep {
				break
			}
			delete(s.m, k)
		}
	}
	s.nextSweep = max(sweepFloor, 2*len(s.m))
}
