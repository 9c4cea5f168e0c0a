//go:generate go tool mdatagen metadata.yaml

// Package sluicereceiver receives OTLP over gRPC and HTTP behind an admission gate that
// refuses load honestly (429 / RESOURCE_EXHAUSTED with a retry hint) instead of buffering it.
package sluicereceiver // import "github.com/sluicehq/sluice/receiver/sluicereceiver"
