package admission_test

import (
	"context"
	"fmt"

	"github.com/sluicehq/sluice/internal/admission"
)

// A gate with two slots refuses the third request at once, saying why.
func Example() {
	g := admission.New(admission.Config{MaxRequests: 2, MaxBytes: 1 << 20})
	ctx := context.Background()
	r1, _, _ := g.Acquire(ctx, "acme", 4096)
	r2, _, _ := g.Acquire(ctx, "acme", 4096)
	_, reason, err := g.Acquire(ctx, "acme", 4096)
	fmt.Println(reason, err)
	_, reason, _ = g.Acquire(ctx, "acme", 2<<20)
	fmt.Println(reason)
	r1()
	r2()
	// Output:
	// overloaded admission refused: overloaded
	// too_large
}
