package admission

import "time"

// Config bounds the gate. Zero values disable a limit or the wait.
type Config struct {
	// MaxRequests caps requests in flight (0: unlimited).
	MaxRequests int
	// MaxBytes caps bytes in flight (0: unlimited). A request heavier than this is refused
	// at once with backpressure.ReasonTooLarge: it could never be admitted.
	MaxBytes int64
	// MaxWaiting caps requests queued for admission; with 0 a request that does not fit is
	// refused at once.
	MaxWaiting int
	// MaxWait is the longest a request waits before it is refused (0: never wait).
	MaxWait time.Duration
	// TenantShare is the fraction (0, 1] of MaxRequests and MaxBytes one tenant may hold;
	// 0 or 1 disables shares.
	TenantShare float64
	// MaxTenants caps the tenants tracked separately; further tenants share one overflow
	// bucket, so hostile tenant keys cannot grow memory (0: unlimited).
	MaxTenants int
}

// OverflowTenant is the bucket of tenants beyond MaxTenants, and a safe metric label value.
const OverflowTenant = "_overflow"
