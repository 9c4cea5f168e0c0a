// Package loadbench runs the built collectors against the embedded ClickHouse under load from
// internal/loadgen: process handling, /proc sampling, Prometheus scraping, landed-row checks,
// the scenarios of `make bench` and their JSON, Markdown and SVG reports. The correctness tests
// in test/load use the same pieces at a small scale.
package loadbench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, 100 on every Linux this runs on.
const clockTicks = 100

// ProcStats is one reading of a process from /proc.
type ProcStats struct {
	CPUSeconds float64 // utime + stime
	RSSBytes   int64   // VmRSS
	HWMBytes   int64   // VmHWM: peak RSS since start
}

// ReadProc reads pid's CPU time and memory from /proc.
func ReadProc(pid int) (ProcStats, error) {
	var s ProcStats
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// The command name (field 2) is in parentheses and may hold spaces: split after it.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return s, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	f := strings.Fields(string(stat[i+1:]))
	// f[0] is field 3 (state); utime is field 14, stime 15.
	if len(f) < 13 {
		return s, fmt.Errorf("short /proc/%d/stat", pid)
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	s.CPUSeconds = (ut + st) / clockTicks
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		line := sc.Text()
		var dst *int64
		switch {
		case strings.HasPrefix(line, "VmRSS:"):
			dst = &s.RSSBytes
		case strings.HasPrefix(line, "VmHWM:"):
			dst = &s.HWMBytes
		default:
			continue
		}
		fields := strings.Fields(line)
		if len(fields) >= 2 {
			kb, _ := strconv.ParseInt(fields[1], 10, 64)
			*dst = kb << 10
		}
	}
	return s, nil
}
