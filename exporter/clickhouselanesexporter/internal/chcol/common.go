package chcol

import "go.opentelemetry.io/collector/pdata/pcommon"

// serviceName is the resource's service.name as a string, "" when absent.
func serviceName(res pcommon.Map) string {
	if v, ok := res.Get("service.name"); ok {
		return v.AsString()
	}
	return ""
}
