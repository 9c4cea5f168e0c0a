package clickhouselanesexporter

import (
	"sync"

	"go.opentelemetry.io/collector/component"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/queue"
	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/wal"
)

// budgets holds one byte budget per exporter ID. The collector builds a separate exporter
// for each signal of a pipeline; sharing the budget makes lanes::memory_budget the limit of
// the whole configured exporter, as users read it, not one per signal.
var (
	budgetsMu sync.Mutex
	budgets   = map[component.ID]*queue.Budget{}
)

// sharedBudget returns the budget of id, creating it (or replacing it after a configuration
// change of its size: the old one is released by the exporters that still hold it).
func sharedBudget(id component.ID, limit int64) *queue.Budget {
	budgetsMu.Lock()
	defer budgetsMu.Unlock()
	if b, ok := budgets[id]; ok && b.Limit() == limit {
		return b
	}
	b := queue.NewBudget(limit)
	budgets[id] = b
	return b
}

// walBudgets are the disk budgets (wal::max_bytes), one per exporter ID like the memory
// budget, but counted by holder: the logs account the bytes they hold when they open, so a
// budget must not outlive its logs (a restart in the same process builds a fresh one).
var walBudgets = map[component.ID]*heldWALBudget{}

type heldWALBudget struct {
	b       *wal.Budget
	limit   int64
	holders int
}

// holdWALBudget returns the disk budget of id and the function that lets go of it.
func holdWALBudget(id component.ID, limit int64) (*wal.Budget, func()) {
	budgetsMu.Lock()
	defer budgetsMu.Unlock()
	h, ok := walBudgets[id]
	if !ok || h.limit != limit {
		h = &heldWALBudget{b: wal.NewBudget(limit), limit: limit}
		walBudgets[id] = h
	}
	h.holders++
	return h.b, func() {
		budgetsMu.Lock()
		defer budgetsMu.Unlock()
		if h.holders--; h.holders == 0 && walBudgets[id] == h {
			delete(walBudgets, id)
		}
	}
}
