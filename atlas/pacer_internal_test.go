package atlas

import (
	"testing"
	"time"
)

type tick struct{ t time.Time }

func (c *tick) now() time.Time { return c.t }

func TestWritePacerSlidingWindow(t *testing.T) {
	clk := &tick{t: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	p := newWritePacer(3, 10*time.Second, clk.now)
	for i := range 3 {
		if d := p.acquire(false); d != 0 {
			t.Fatalf("write %d held back %s", i, d)
		}
		p.finish()
		clk.t = clk.t.Add(time.Second) // answered at 0, 1, 2 s
	}
	clk.t = clk.t.Add(2 * time.Second) // now 5 s
	if d := p.acquire(false); d != 5*time.Second {
		t.Fatalf("4th write: wait %s, want 5s (until the first answer leaves the window)", d)
	}
	if d := p.delay(); d != 5*time.Second {
		t.Fatalf("delay %s", d)
	}
	clk.t = clk.t.Add(5 * time.Second) // 10 s: the answer at 0 s is exactly a window old
	if d := p.acquire(false); d != 0 {
		t.Fatalf("at the window's end the write goes, wait %s", d)
	}
	// An unanswered write holds its place.
	if d := p.acquire(false); d != time.Second {
		t.Fatalf("wait %s, want 1s (the answer at 1 s leaves at 11 s)", d)
	}
	clk.t = clk.t.Add(time.Second) // 11 s: the 1 s answer left; the 2 s one and the open write remain
	if d := p.acquire(false); d != 0 {
		t.Fatalf("wait %s, want 0", d)
	}
	if d := p.acquire(false); d != time.Second {
		t.Fatalf("wait %s, want 1s (the 2 s answer leaves at 12 s)", d)
	}
}

func TestWritePacerAllOpen(t *testing.T) {
	clk := &tick{t: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	p := newWritePacer(2, time.Second, clk.now)
	p.acquire(false)
	p.acquire(false)
	if d := p.acquire(false); d != 500*time.Millisecond {
		t.Fatalf("a window full of unanswered writes: look again in window/rate, got %s", d)
	}
	if newWritePacer(-1, time.Second, clk.now) != nil {
		t.Fatal("rate -1: no pacing")
	}
	var none *pacer
	if none.delay() != 0 {
		t.Fatal("a nil pacer never waits")
	}
}

func TestWritePacerReservations(t *testing.T) {
	clk := &tick{t: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	p := newWritePacer(3, 10*time.Second, clk.now)
	p.acquire(false)
	p.finish() // one answered at 0 s
	if d1, d2 := p.reserve(), p.reserve(); d1 != 0 || d2 != 0 {
		t.Fatalf("room for two reservations: waits %s, %s", d1, d2)
	}
	if d := p.reserve(); d != 10*time.Second {
		t.Fatalf("a third waits for the answer to leave the window: %s", d)
	}
	if d := p.acquire(false); d != 10*time.Second {
		t.Fatalf("a delete may not take a reserved place: %s", d)
	}
	if d1, d2 := p.acquire(true), p.acquire(true); d1 != 0 || d2 != 0 {
		t.Fatalf("queries take the reserved places: waits %s, %s", d1, d2)
	}
	p.finish()
	p.finish()
	if d := p.acquire(true); d == 0 {
		t.Fatal("no reservation left and the window is full")
	}
	// A reservation no query uses lapses.
	clk.t = clk.t.Add(10 * time.Second) // every answer left the window
	for range 3 {
		if p.reserve() != 0 {
			t.Fatal("room again")
		}
	}
	if d := p.acquire(false); d == 0 {
		t.Fatal("every place is reserved")
	}
	clk.t = clk.t.Add(reservationTTL)
	if d := p.acquire(false); d != 0 {
		t.Fatalf("the reservation lapsed, the window emptied: %s", d)
	}
}

func TestETagCacheBounds(t *testing.T) {
	c := newETagCache()
	big := make([]byte, maxETagBytes/8)
	for i := range 20 {
		c.put(string(rune('a'+i)), etagEntry{etag: "x", body: big})
		if c.bytes > maxETagBytes {
			t.Fatalf("%d bytes kept, cap %d", c.bytes, maxETagBytes)
		}
	}
	if len(c.m) != 8 {
		t.Fatalf("%d entries of an eighth of the cap", len(c.m))
	}
	c.put("huge", etagEntry{body: make([]byte, maxETagBytes)})
	if _, ok := c.get("huge"); ok {
		t.Fatal("an answer over a quarter of the cap is not kept")
	}
	for i := range maxETags + 10 {
		c.put(string(rune(0x1000+i)), etagEntry{etag: "y", body: []byte("b")})
	}
	if len(c.m) > maxETags {
		t.Fatalf("%d entries, cap %d", len(c.m), maxETags)
	}
	n := len(c.m)
	c.put(string(rune(0x1000)), etagEntry{etag: "z"}) // replacing keeps the count
	c.drop("nothing")
	if len(c.m) > n {
		t.Fatalf("replacing an entry grew the cache")
	}
}
