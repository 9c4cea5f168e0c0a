package breaker_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/sluicehq/sluice/exporter/clickhouselanesexporter/internal/breaker"
)

// A lane worker wraps every insert attempt in Allow and Done.
func Example() {
	b := breaker.New(breaker.Settings{CoolDown: 5 * time.Second, Jitter: -1})
	insert := func() error { return errors.New("dial tcp: connection refused") }

	for range 3 {
		tok, err := b.Allow()
		if err != nil {
			var oe *breaker.OpenError
			errors.As(err, &oe)
			fmt.Println("refused, retry after", oe.RetryAfter().Round(time.Second))
			continue
		}
		tok.Done(insert())
	}
	fmt.Println(b.State())
	// Output:
	// refused, retry after 5s
	// open
}
