package chlocal

import (
	"fmt"
	"strings"
)

// portsFileName is written by the server once its listeners are open: one
// TSV line "tcp_port<TAB>http_port". It is how port 0 (any free port) is
// turned into real port numbers without racing for a port in Go first.
const portsFileName = "chlocal.ports"

// serverArgs returns the clickhouse-local options that turn it into a
// server: clickhouse-local has no listeners of its own, but in 26.x
// SYSTEM START LISTEN opens the ones configured by --tcp_port/--http_port.
// The process lives only as long as its --query runs, so the last statement
// is a query that sleeps for decades, one row every 3 s.
func serverArgs(dataDir, portsFile string, tcpPort, httpPort int, extra []string) []string {
	query := strings.Join([]string{
		"SYSTEM START LISTEN TCP",
		"SYSTEM START LISTEN HTTP",
		fmt.Sprintf("INSERT INTO FUNCTION file(%s, 'TSV', 'tcp UInt16, http UInt16') "+
			"SELECT getServerPort('tcp_port'), getServerPort('http_port') "+
			"SETTINGS engine_file_truncate_on_insert = 1", sqlString(portsFile)),
		// sum() keeps the output empty (one row at the very end) instead of
		// piling a row per 3 s into the launcher's result buffer. The
		// per-block cap on sleeping must be lifted or the query fails.
		"SELECT sum(sleepEachRow(3)) FROM numbers(1000000000) " +
			"SETTINGS max_block_size = 1, function_sleep_max_microseconds_per_block = 0",
	}, "; ")
	args := []string{
		"--path=" + dataDir,
		"--listen_host=127.0.0.1",
		fmt.Sprintf("--tcp_port=%d", tcpPort),
		fmt.Sprintf("--http_port=%d", httpPort),
	}
	args = append(args, extra...)
	return append(args, "--query="+query)
}

// sqlString quotes s as a ClickHouse string literal.
func sqlString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	return "'" + r.Replace(s) + "'"
}
