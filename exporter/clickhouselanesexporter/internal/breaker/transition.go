package breaker

import "time"

// transition is a state change collected under the lock and announced after unlocking,
// so an observer can never deadlock the breaker.
type transition struct {
	Transition
	ok bool
}

// nowLocked reads the clock only when the state needs it: the closed path, which every
// insert takes, never does.
func (b *Breaker) nowLocked() time.Time {
	if b.state == Open {
		return b.settings.Now()
	}
	return time.Time{}
}

// advanceLocked applies the lazy open → half_open step when the cool-down has elapsed;
// now comes from nowLocked.
func (b *Breaker) advanceLocked(now time.Time) transition {
	if b.state == Open && !now.Before(b.openUntil) {
		return b.toLocked(HalfOpen)
	}
	return transition{}
}

// toLocked moves to state s and starts a new generation.
func (b *Breaker) toLocked(s State) transition {
	tr := transition{Transition{From: b.state, To: s}, true}
	b.generation++
	b.state = s
	b.failures = 0
	b.probing = false
	if s == Open {
		b.openUntil = b.settings.Now().Add(b.settings.coolDown())
	}
	tr.Generation = b.generation
	return tr
}

func (b *Breaker) openErrorLocked(now time.Time) *OpenError {
	wait := b.settings.CoolDown // a probe is in flight
	if b.state == Open {
		wait = b.openUntil.Sub(now)
	}
	return &OpenError{state: b.state, retryAfter: max(wait, time.Duration(0))}
}

func (b *Breaker) notify(tr transition) {
	if tr.ok && b.settings.OnTransition != nil {
		b.settings.OnTransition(tr.Transition)
	}
}
