package sluicereceiver

import (
	"sync"
	"time"
)

// heldStreams counts the streams refused at the tap that grpc-go still holds. grpc-go
// (v1.85) does not cancel the context of a stream its tap refused: the stream's context and
// its deadline timer live until that timer fires. So they are counted by the second their
// deadline passes, and nothing refers to the stream: a context.AfterFunc on its context,
// which counted them before, kept its headers alive too (BenchmarkGRPCTapHeld: 1.75 KB
// per held stream, against grpc-go's own 0.34 KB).
type heldStreams struct {
	mu sync.Mutex
	// Seconds are counted from base, the first hold, on the monotonic clock (as grpc-go's
	// timers are). slots[s%heldHorizon] counts the streams released in second s, for the
	// seconds up to heldHorizon ahead; swept is the last second whose streams were let go.
	base  time.Time             // guarded by mu
	slots [heldHorizon]heldSlot // guarded by mu
	swept int64                 // guarded by mu
	total int64                 // guarded by mu
}

type heldSlot struct{ second, n int64 }

// heldHorizon is how many seconds ahead a refused stream's deadline may be for the tap to
// hold it (clients' timeouts are usually 5 to 30 s).
const heldHorizon = 64

// hold counts a stream refused at the tap at now whose context ends at deadline, unless
// limit streams are held already or the deadline is heldHorizon or more ahead; then it
// returns false and the stream must not be refused at the tap.
func (h *heldStreams) hold(now, deadline time.Time, limit int64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.base.IsZero() {
		h.base = now
	}
	sec := h.sweepLocked(now)
	left := deadline.Sub(h.base)
	release := int64(left / time.Second)
	if left%time.Second > 0 {
		release++ // counted until its second is over
	}
	if release-sec >= heldHorizon || h.total >= limit {
		return false
	}
	if release <= sec {
		return true // already past: grpc-go has let it go
	}
	s := &h.slots[release%heldHorizon]
	if s.second != release {
		*s = heldSlot{second: release} // the slot's earlier second has passed and was swept
	}
	s.n++
	h.total++
	return true
}

// count is how many refused streams grpc-go still holds at now.
func (h *heldStreams) count(now time.Time) int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.base.IsZero() {
		return 0
	}
	h.sweepLocked(now)
	return h.total
}

// sweepLocked lets go of the streams whose deadline passed by now, and returns now's
// second. Every slot of a second after swept and up to now is visited once. A now older
// than swept (the tap reads the clock before it takes the lock, so another connection's
// later now may have been swept first; or older than base itself) counts as swept's
// second: a stream due in a second already swept has been let go, and is not put in that
// second's slot, which is not visited again until a later second's streams replace it.
func (h *heldStreams) sweepLocked(now time.Time) int64 {
	sec := int64(now.Sub(h.base) / time.Second)
	for s := max(h.swept+1, sec-heldHorizon+1); s <= sec; s++ {
		if slot := &h.slots[s%heldHorizon]; slot.n > 0 && slot.second <= sec {
			h.total -= slot.n
			slot.n = 0
		}
	}
	h.swept = max(h.swept, sec)
	return h.swept
}
