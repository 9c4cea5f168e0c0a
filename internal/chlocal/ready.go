package chlocal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// readPorts parses the ports file. It reports ok=false (not an error) while
// the file is missing or still being written, so callers can simply poll.
func readPorts(path string) (tcp, http int, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil || !strings.HasSuffix(string(b), "\n") {
		return 0, 0, false
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0, 0, false
	}
	tcp, err1 := strconv.Atoi(f[0])
	http, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || tcp <= 0 || http <= 0 {
		return 0, 0, false
	}
	return tcp, http, true
}

// waitReady polls until the server answers SELECT 1 over the native protocol
// on the port it reported. It returns early with the log tail if the process
// exits, and gives up when ctx is done.
func waitReady(ctx context.Context, p *proc, portsFile string) (tcp, http int, err error) {
	delay := 10 * time.Millisecond
	for {
		var ok bool
		if tcp, http, ok = readPorts(portsFile); ok {
			if err = pingNative(ctx, net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp))); err == nil {
				return tcp, http, nil
			}
		} else {
			err = errors.New("listeners not open yet")
		}
		t := time.NewTimer(delay)
		select {
		case <-p.done:
			t.Stop()
			return 0, 0, fmt.Errorf("chlocal: ClickHouse exited during startup (%v); log %s:\n%s",
				p.waitErr, p.log.Name(), logTail(p.log.Name(), p.logOffset))
		case <-ctx.Done():
			t.Stop()
			return 0, 0, fmt.Errorf("chlocal: ClickHouse not ready: %w (last attempt: %v); log %s:\n%s",
				context.Cause(ctx), err, p.log.Name(), logTail(p.log.Name(), p.logOffset))
		case <-t.C:
		}
		delay = min(delay*2, 200*time.Millisecond)
	}
}

// pingNative runs SELECT 1 on a fresh connection and closes it again, so
// readiness checks leave no pooled connections or goroutines behind.
func pingNative(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr:         []string{addr},
		DialTimeout:  time.Second,
		MaxOpenConns: 1,
	})
	if err != nil {
		return err
	}
	defer conn.Close()
	var one uint8
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return err
	}
	if one != 1 {
		return fmt.Errorf("SELECT 1 returned %d", one)
	}
	return nil
}

// logTail returns up to the last 4 KiB written to the log since offset.
func logTail(path string, offset int64) string {
	const limit = 4 << 10
	f, err := os.Open(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	defer f.Close()
	end, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return "(unreadable log: " + err.Error() + ")"
	}
	start := max(offset, end-limit)
	b := make([]byte, end-start)
	n, _ := f.ReadAt(b, start)
	if n == 0 {
		return "(empty)"
	}
	return string(b[:n])
}
