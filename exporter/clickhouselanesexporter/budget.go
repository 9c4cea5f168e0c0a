package clickhouselanesexporter

import (
	"sync"

	"go.opentelemetry.io/collector/component"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/lane"
)

// budgets holds one byte budget per exporter ID. The collector builds a separate exporter
// for each signal of a pipeline; sharing the budget makes lanes::memory_budget the limit of
// the whole configured exporter, as users read it, not one per signal.
var (
	budgetsMu sync.Mutex
	budgets   = map[component.ID]*lane.Budget{}
)

// sharedBudget returns the budget of id, creating it (or replacing it after a configuration
// change of its size: the old one is released by the exporters that still hold it).
func sharedBudget(id component.ID, limit int64) *lane.Budget {
	budgetsMu.Lock()
	defer budgetsMu.Unlock()
	if b, ok := budgets[id]; ok && b.Limit() == limit {
		return b
	}
	b := lane.NewBudget(limit)
	budgets[id] = b
	return b
}
