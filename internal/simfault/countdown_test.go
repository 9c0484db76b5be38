package simfault

import (
	"sync"
	"testing"
)

func TestCountdown(t *testing.T) {
	var c Countdown
	if c.Take() {
		t.Fatal("zero Countdown counted a request")
	}
	c.Add(3)
	var wg sync.WaitGroup
	var mu sync.Mutex
	taken := 0
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if c.Take() {
				mu.Lock()
				taken++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if taken != 3 {
		t.Errorf("took %d, want 3", taken)
	}
}
