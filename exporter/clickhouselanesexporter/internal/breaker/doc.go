// Package breaker is the per-lane circuit breaker of the clickhouselanes exporter.
//
// A Breaker is a state machine with no goroutines and no timers: it advances lazily, from
// an injected clock, whenever it is asked something. The states are
//
//	closed ──N consecutive failures──▶ open ──cool-down + jitter──▶ half_open
//	  ▲                                  ▲                              │
//	  └────────── probe succeeded ───────┼──────── probe failed ────────┘
//
// In half_open exactly one caller (the probe) is let through; everyone else is refused
// until its result is known. Work is reported in two steps — Allow hands out a Token, the
// Token's Done reports the outcome later — because a lane's insert finishes long after it
// was admitted. Every transition starts a new generation, and a Token only counts in the
// generation it was issued in: a slow insert that fails after the breaker has already
// opened (or closed again) cannot push it around.
//
// Not every error is the destination's fault. A context.Canceled outcome (shutdown) is
// ignored, and errors the caller's IsPermanent predicate recognises (ClickHouse rejected the
// data itself) count as a sign of life, not as a failure.
package breaker
