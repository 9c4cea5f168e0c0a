package breaker

import (
	"sync"
	"time"
)

// Breaker is one lane's circuit breaker. It is safe for concurrent use; its methods never
// block on anything but its own short critical section.
type Breaker struct {
	settings Settings

	mu         sync.Mutex
	state      State
	generation uint64    // bumped by every transition; Tokens from older ones are ignored
	failures   int       // consecutive failures in the current closed generation
	openUntil  time.Time // when an open breaker lets its probe through
	probing    bool      // a half-open probe is in flight
}

// New returns a closed breaker.
func New(s Settings) *Breaker {
	return &Breaker{settings: s.withDefaults()}
}

// Token is a permission handed out by Allow. Its Done must be called exactly once, with
// the outcome of the work it admitted; a lost half-open Token keeps the breaker probing
// (refusing) until one is reported. The zero Token's Done does nothing.
type Token struct {
	b          *Breaker
	generation uint64
}

// Allow asks to do one unit of work (one insert attempt). It returns a Token to report
// the outcome with, or an *OpenError (errors.Is ErrOpen) with the time until a probe may
// be let through. In half_open only the first caller gets a Token.
func (b *Breaker) Allow() (Token, error) {
	b.mu.Lock()
	now := b.nowLocked()
	tr := b.advanceLocked(now)
	if b.state == HalfOpen && !b.probing {
		b.probing = true
	} else if b.state != Closed {
		err := b.openErrorLocked(now)
		b.mu.Unlock()
		b.notify(tr)
		return Token{}, err
	}
	t := Token{b: b, generation: b.generation}
	b.mu.Unlock()
	b.notify(tr)
	return t, nil
}

// Check reports whether Allow would currently let work through, without taking a Token:
// nil, or the same *OpenError Allow would return. Admission uses it to refuse new data
// while the destination is known to be failing.
func (b *Breaker) Check() error {
	b.mu.Lock()
	now := b.nowLocked()
	tr := b.advanceLocked(now)
	var err error
	if b.state == Open || (b.state == HalfOpen && b.probing) {
		err = b.openErrorLocked(now)
	}
	b.mu.Unlock()
	b.notify(tr)
	return err
}

// State returns the current state, after applying an elapsed cool-down.
func (b *Breaker) State() State {
	b.mu.Lock()
	now := b.nowLocked()
	tr := b.advanceLocked(now)
	s := b.state
	b.mu.Unlock()
	b.notify(tr)
	return s
}

// Done reports the outcome of the work the Token admitted. See Settings for which errors
// count as failures. Results from an older generation are ignored.
func (t Token) Done(err error) {
	if t.b == nil {
		return
	}
	// Classify before locking: IsPermanent is caller code.
	t.b.report(t.generation, t.b.settings.classify(err))
}

func (b *Breaker) report(generation uint64, o outcome) {
	b.mu.Lock()
	if generation != b.generation {
		b.mu.Unlock()
		return
	}
	var tr transition
	switch {
	case b.state == Closed && o == success:
		b.failures = 0
	case b.state == Closed && o == failure:
		b.failures++
		if b.failures >= b.settings.FailureThreshold {
			tr = b.toLocked(Open)
		}
	case b.state == HalfOpen && o == success:
		tr = b.toLocked(Closed)
	case b.state == HalfOpen && o == failure:
		tr = b.toLocked(Open)
	case b.state == HalfOpen && o == ignored:
		// The probe was cancelled without telling us anything: let another one through.
		b.probing = false
	}
	b.mu.Unlock()
	b.notify(tr)
}
