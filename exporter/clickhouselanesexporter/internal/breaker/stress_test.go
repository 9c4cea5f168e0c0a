package breaker

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// Many workers report random outcomes, late, while the clock moves: every half-open
// generation still lets exactly one probe through, and no result crosses generations.
func TestAtMostOneProbePerHalfOpenGenerationUnderStress(t *testing.T) {
	var mu sync.Mutex
	stateOf := map[uint64]State{0: Closed}
	granted := map[uint64]int{}

	b, c := newTestBreaker(t, Settings{CoolDown: time.Millisecond, OnTransition: func(tr Transition) {
		mu.Lock()
		stateOf[tr.Generation] = tr.To
		mu.Unlock()
	}})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			var held []Token
			for i := range 3000 {
				if w == 0 && i%10 == 0 {
					c.Advance(time.Millisecond / 2)
				}
				if tok, err := b.Allow(); err == nil {
					mu.Lock()
					granted[tok.generation]++
					mu.Unlock()
					held = append(held, tok)
				}
				// Report a random earlier token, so results arrive late and out of order.
				if len(held) > 0 && rand.IntN(2) == 0 {
					k := rand.IntN(len(held))
					var err error
					if rand.IntN(3) == 0 {
						err = errInsert
					}
					held[k].Done(err)
					held = append(held[:k], held[k+1:]...)
				}
			}
			for _, tok := range held {
				tok.Done(nil)
			}
		})
	}
	wg.Wait()

	var halfOpen int
	for gen, s := range stateOf {
		switch s {
		case HalfOpen:
			halfOpen++
			assert.LessOrEqual(t, granted[gen], 1, "generation %d", gen)
		case Open:
			assert.Zero(t, granted[gen], "generation %d", gen)
		}
	}
	t.Logf("%d generations, %d half-open", len(stateOf), halfOpen)
	assert.Positive(t, halfOpen, "the stress reached half-open")
}
