package chinsert

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/ch-go"
	"github.com/ClickHouse/ch-go/proto"
	"go.uber.org/zap"
)

// Inserter owns one connection. It is not safe for concurrent use.
type Inserter struct {
	opts   Options
	client *ch.Client
	next   int // index of the address to try first on the next dial
	hash   hasher
}

// New returns an Inserter; nothing is dialled until first use.
func New(opts Options) *Inserter { return &Inserter{opts: opts} }

// conn returns the live connection, dialling one if there is none.
//
// A kept connection is pinged first: a server that died or restarted since the last query
// must show up as a failure to connect, which means nothing was written, and not as an
// insert failing half-way, whose outcome would be unknown (see OutcomeUnknownError).
func (in *Inserter) conn(ctx context.Context) (*ch.Client, error) {
	if in.client != nil && !in.client.IsClosed() {
		if err := in.client.Ping(ctx); err == nil {
			return in.client, nil
		}
		in.drop()
	}
	var errs []error
	for range in.opts.Addrs {
		addr := in.opts.Addrs[in.next%len(in.opts.Addrs)]
		c, err := ch.Dial(ctx, in.chOptions(addr))
		if err == nil {
			in.client = c
			return c, nil
		}
		// Try the next host first next time too: a dead primary should not cost a dial
		// timeout on every reconnect.
		in.next++
		errs = append(errs, fmt.Errorf("dial %s: %w", addr, err))
	}
	return nil, errors.Join(errs...)
}

func (in *Inserter) chOptions(addr string) ch.Options {
	o := in.opts
	return ch.Options{
		Logger: zap.NewNop(), Address: addr, Database: o.Database, User: o.User,
		Password: o.Password, Compression: o.Compression, ClientName: o.ClientName,
		DialTimeout: o.DialTimeout, ReadTimeout: o.ReadTimeout, TLS: o.TLS,
		Dialer: &net.Dialer{Timeout: o.DialTimeout},
		// A server that accepts and never answers must cost a dial timeout, not ch-go's
		// default handshake timeout: the lane is held while it waits.
		HandshakeTimeout: o.DialTimeout,
	}
}

// drop closes the connection after an error: after a failed query the protocol state is
// unknown, and a fresh connection is cheap next to a retried insert.
func (in *Inserter) drop() {
	if in.client != nil {
		_ = in.client.Close()
		in.client = nil
	}
}

// Close closes the connection, if any.
func (in *Inserter) Close() error {
	if in.client == nil {
		return nil
	}
	err := in.client.Close()
	in.client = nil
	return err
}

// ServerVersion dials if needed and reports the server's major and minor version.
func (in *Inserter) ServerVersion(ctx context.Context) (major, minor int, err error) {
	c, err := in.conn(ctx)
	if err != nil {
		return 0, 0, err
	}
	s := c.ServerInfo()
	return s.Major, s.Minor, nil
}

// Exec runs a statement that returns no rows (DDL).
func (in *Inserter) Exec(ctx context.Context, sql string) error {
	c, err := in.conn(ctx)
	if err != nil {
		return err
	}
	if err := c.Do(ctx, ch.Query{Body: sql}); err != nil {
		in.drop()
		return err
	}
	return nil
}

// Insert sends input as one block with query (an INSERT ... VALUES), and empties its columns
// once sent. The settings make the insert synchronous unless AsyncInsert is set, and carry a
// deduplication token (a hash of the block) when Deduplicate is.
func (in *Inserter) Insert(ctx context.Context, query string, input proto.Input) error {
	return in.insert(ctx, query, input, "", 0, nil)
}

// InsertStream sends one INSERT of several blocks: input holds the first block's rows, and
// next, called after each block is sent, refills it and reports whether it holds another
// block (false: the end; input is emptied). The server takes the blocks as one insert (one part unless it
// passes min_insert_block_size_rows/bytes), so only one block's columns are ever in memory.
// token is the insert_deduplication_token when Deduplicate is on: it cannot be a hash of the
// content, which is not all known when the query starts.
//
// step, if positive, bounds each step of the stream instead of the whole: the query and first
// block, each further block, and the answer after the last (which covers the server writing
// the part: step for each block sent). Time spent in next is not counted. A step that passes
// it closes the connection, which fails any read or write in progress at once (a context
// would not: ch-go takes socket deadlines from a context's deadline, not its cancellation).
func (in *Inserter) InsertStream(ctx context.Context, query string, input proto.Input, token string, step time.Duration, next func() (bool, error)) error {
	return in.insert(ctx, query, input, token, step, next)
}

func (in *Inserter) insert(ctx context.Context, query string, input proto.Input, token string, step time.Duration, next func() (bool, error)) error {
	c, err := in.conn(ctx)
	if err != nil {
		return &NotSentError{err: err}
	}
	watch := newStepWatch(step, c)
	defer watch.stop()
	if token == "" && in.opts.Deduplicate {
		token = in.hash.token(input)
	}
	// ch-go calls OnInput once the first block is written to the connection: from then on
	// rows may be in ClickHouse. Before it (ping, sending the query, inferring the columns'
	// types, encoding the first block) nothing can have been committed.
	sent := false
	q := ch.Query{Body: query, Input: input, Settings: in.settings(token), OnInput: func(context.Context) error {
		sent = true
		watch.pause()
		more := false
		if next != nil {
			var err error
			if more, err = next(); err != nil {
				return err
			}
		}
		watch.resume(!more)
		if !more {
			// ch-go sends the input again if it still holds rows at io.EOF.
			for _, c := range input {
				c.Data.(interface{ Reset() }).Reset()
			}
			return io.EOF
		}
		return nil
	}}
	if err := c.Do(ctx, q); err != nil {
		in.drop()
		if watch.fired() {
			err = fmt.Errorf("ClickHouse made no progress for %s (insert_timeout) taking a block or answering: %w", watch.limit(), err)
		}
		if _, isException := ch.AsException(err); isException {
			return err
		}
		if !sent {
			return &NotSentError{err: err}
		}
		// The data may have reached the server and been committed before the answer
		// was lost (a timeout, a reset connection).
		return &OutcomeUnknownError{err: err}
	}
	return nil
}

func (in *Inserter) settings(token string) []ch.Setting {
	s := make([]ch.Setting, 0, 5)
	if in.opts.AsyncInsert {
		s = append(s, ch.Setting{Key: "async_insert", Value: "1"},
			ch.Setting{Key: "wait_for_async_insert", Value: boolSetting(in.opts.WaitForAsyncInsert)},
			ch.Setting{Key: "async_insert_deduplicate", Value: boolSetting(in.opts.Deduplicate)})
	} else {
		s = append(s, ch.Setting{Key: "async_insert", Value: "0"})
	}
	if in.opts.Deduplicate {
		s = append(s, ch.Setting{Key: "insert_deduplication_token", Value: token})
	}
	// Into a Distributed table, an insert returns only once every shard has its rows, so an
	// acknowledgement means committed (by default it means queued on the receiving node). It
	// changes nothing for other tables. The old name works on every server version.
	s = append(s, ch.Setting{Key: "insert_distributed_sync", Value: "1"})
	return s
}

func boolSetting(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// stepWatch closes a streamed insert's connection when one step of it takes longer than its
// bound (see InsertStream). A nil stepWatch (no step bound) does nothing.
type stepWatch struct {
	step    time.Duration
	timer   *time.Timer
	blocks  int          // sent so far
	current atomic.Int64 // the bound of the step in progress, for the error
	stalled atomic.Bool
}

func newStepWatch(step time.Duration, c *ch.Client) *stepWatch {
	if step <= 0 {
		return nil
	}
	w := &stepWatch{step: step}
	w.current.Store(int64(step))
	w.timer = time.AfterFunc(step, func() {
		w.stalled.Store(true)
		_ = c.Close()
	})
	return w
}

// pause stops the clock while the caller fills the next block.
func (w *stepWatch) pause() {
	if w != nil {
		w.timer.Stop()
	}
}

// resume starts the next step: a block, or (last) the answer, bounded by step per block sent.
func (w *stepWatch) resume(last bool) {
	if w == nil {
		return
	}
	w.blocks++
	d := w.step
	if last {
		d *= time.Duration(w.blocks)
	}
	w.current.Store(int64(d))
	w.timer.Reset(d)
}

func (w *stepWatch) fired() bool { return w != nil && w.stalled.Load() }

func (w *stepWatch) limit() time.Duration { return time.Duration(w.current.Load()) }

func (w *stepWatch) stop() {
	if w != nil {
		w.timer.Stop()
	}
}
