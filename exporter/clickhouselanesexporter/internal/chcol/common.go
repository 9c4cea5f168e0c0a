package chcol

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// time64 is the element type of Array(DateTime64(9)) columns.
type time64 = time.Time

// serviceName is the resource's service.name as a string, "" when absent.
func serviceName(res pcommon.Map) string {
	if v, ok := res.Get("service.name"); ok {
		return v.AsString()
	}
	return ""
}
