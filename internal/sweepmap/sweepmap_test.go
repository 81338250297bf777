package sweepmap

import (
	"fmt"
	"testing"
)

// expires is a value that stops mattering at its own instant.
type expires int64

func done(v expires, now int64) bool { return int64(v) <= now }

// A map full of live entries makes room for an eighth of its bound at a
// time, so that it is not swept on every insert.
func TestFullMapMakesRoomByEighths(t *testing.T) {
	m := New[int, expires](800, done)
	for i := range 800 {
		m.Put(i, 100, 0)
	}
	m.Put(800, 100, 0)
	if m.Len() != 701 {
		t.Fatalf("len %d after an insert into a full map, want 700 kept + 1", m.Len())
	}
	for i := 801; i < 900; i++ {
		m.Put(i, 100, 0)
	}
	if m.Len() != 800 {
		t.Fatalf("len %d, want 800: no entry dropped before the bound again", m.Len())
	}
}

func TestBoundKeepsTheNewest(t *testing.T) {
	m := New[string, expires](2, done)
	m.Put("a", 100, 0)
	m.Put("b", 100, 0)
	m.Put("c", 100, 0) // full, nothing done: one of a and b goes
	if m.Len() != 2 {
		t.Fatalf("len %d, want 2", m.Len())
	}
	if _, ok := m.Get("c"); !ok {
		t.Fatal("the entry just put was dropped")
	}
	m.Put("c", 200, 0) // an update makes no room
	if m.Len() != 2 {
		t.Fatalf("len %d after an update, want 2", m.Len())
	}
}

func TestDoneEntriesAreSweptAsTheMapDoubles(t *testing.T) {
	m := New[string, expires](1_000_000, done)
	for i := range sweepFloor {
		m.Put(fmt.Sprintf("old-%d", i), 10, 0)
	}
	m.Put("live", 1000, 0) // reaches the floor: swept, but nothing is done yet
	if m.Len() != sweepFloor+1 {
		t.Fatalf("len %d, want %d", m.Len(), sweepFloor+1)
	}
	for i := range 2 * sweepFloor {
		m.Put(fmt.Sprintf("new-%d", i), 1000, 20) // at 20 the old ones are done
	}
	if m.Len() > 2*sweepFloor+1 {
		t.Fatalf("len %d, want the done entries swept", m.Len())
	}
	if _, ok := m.Get("old-0"); ok {
		t.Error("a done entry survived the sweep")
	}
	if v, ok := m.Get("live"); !ok || v != 1000 {
		t.Errorf("live = %v, %v", v, ok)
	}
}
