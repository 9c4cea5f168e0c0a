package sluicereceiver

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configauth"
	"go.opentelemetry.io/collector/config/configmiddleware"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"

	"github.com/sluicehq/sluice/internal/backpressure"
	"github.com/sluicehq/sluice/receiver/sluicereceiver/internal/metadatatest"
)

// TestGRPCRefusalBeforeTheMessageKeepsRetryInfoAndIsCounted: with the gate full, a real
// gRPC client is refused before the server reads its message, and still gets
// RESOURCE_EXHAUSTED with the admission message and its RetryInfo, and the refusal is
// counted with its reason, by the receiver and by obsreport (with no items: none were read).
func TestGRPCRefusalBeforeTheMessageKeepsRetryInfoAndIsCounted(t *testing.T) {
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	r := startReceiverSet(t, metadatatest.NewSettings(tt), &sink{}, func(c *Config) {
		c.Admission.MaxInflightRequests = 1
		c.Admission.RetryAfter = 3 * time.Second
	}, nil)
	hold, _ := r.admit(context.Background(), "traces", "grpc", 0)
	client := ptraceotlp.NewGRPCClient(grpcConn(t, r))
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second) // the tap refuses only streams with a deadline
	defer cancel()

	_, err := client.Export(ctx, ptraceotlp.NewExportRequestFromTraces(testTraces(10)))
	assert.Equal(t, 3*time.Second, requireRefusedOverRequests(t, r, err))

	metadatatest.AssertEqualSluiceReceiverRequests(t, tt, []metricdata.DataPoint[int64]{{
		Value: 1, Attributes: attribute.NewSet(
			attribute.String("outcome", "refused"), attribute.String("reason", "overloaded"),
			attribute.String("signal", "traces"), attribute.String("transport", "grpc")),
	}}, metricdatatest.IgnoreTimestamp())
	refused, err := tt.GetMetric("otelcol_receiver_refused_spans")
	require.NoError(t, err)
	assert.Zero(t, refused.Data.(metricdata.Sum[int64]).DataPoints[0].Value, "not read, so not counted")

	hold()
	_, err = client.Export(t.Context(), ptraceotlp.NewExportRequestFromTraces(testTraces(10)))
	require.NoError(t, err, "admitted once the slot is free")
}

// TestGRPCTapRefusesOnlyWhatTheGateWould: the tap, and the handler's early refusal for a
// client without a deadline, read the tenant from the headers as the handler reads it from
// client metadata, so a tenant over its share is refused before its message is read,
// naming its share, while another tenant is admitted.
func TestGRPCTapRefusesOnlyWhatTheGateWould(t *testing.T) {
	for name, deadline := range map[string]bool{"at the tap": true, "in the handler": false} {
		t.Run(name, func(t *testing.T) {
			tt := componenttest.NewTelemetry()
			t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
			r := startReceiverSet(t, metadatatest.NewSettings(tt), &sink{}, func(c *Config) {
				c.Protocols.GRPC.Get().IncludeMetadata = true
				c.Admission.MaxInflightRequests = 2
				c.Admission.Tenant = TenantConfig{MetadataKey: "X-Scope-OrgID", MaxShare: 0.5, MaxTenants: 10}
			}, nil)
			greedyCtx := client.NewContext(context.Background(), client.Info{
				Metadata: client.NewMetadata(map[string][]string{"x-scope-orgid": {"greedy"}}),
			})
			hold, out := r.admit(greedyCtx, "traces", "grpc", 0)
			require.False(t, out.IsError())
			defer hold()
			exp := ptraceotlp.NewGRPCClient(grpcConn(t, r))
			send := func(tenant string) error {
				ctx := t.Context()
				if deadline { // the tap refuses only streams with a deadline
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, 30*time.Second)
					defer cancel()
				}
				ctx = metadata.AppendToOutgoingContext(ctx, "X-Scope-OrgID", tenant)
				_, err := exp.Export(ctx, ptraceotlp.NewExportRequestFromTraces(testTraces(1)))
				return err
			}

			st := status.Convert(send("greedy"))
			require.Equal(t, codes.ResourceExhausted, st.Code())
			assert.Contains(t, st.Message(), `tenant "greedy" is over its share`)
			_, ok := backpressure.RetryDelay(st)
			assert.True(t, ok, "RetryInfo on the wire")
			refused, err := tt.GetMetric("otelcol_receiver_refused_spans")
			require.NoError(t, err)
			assert.Zero(t, refused.Data.(metricdata.Sum[int64]).DataPoints[0].Value, "refused before the span was read")
			held := map[bool]int64{true: 1, false: 0}[deadline]
			assert.Equal(t, held, r.tapHeld.count(time.Now()))
			require.NoError(t, send("quiet"))
		})
	}
}

// TestGRPCTapStandsAsideForAuthAndMiddlewares: an authenticator or middlewares run before
// admission, so with either configured the tap is not installed, the handler does not
// refuse early, and refusals happen after them.
func TestGRPCTapStandsAsideForAuthAndMiddlewares(t *testing.T) {
	r, _ := handlerOnly(t, &sink{}, func(c *Config) {
		c.Protocols.GRPC.GetOrInsertDefault()
		c.Admission.MaxInflightRequests = 1
	})
	hold, _ := r.admit(context.Background(), "traces", "grpc", 0)
	defer hold()
	grpcCfg := r.cfg.Protocols.GRPC.Get()
	read := func(any) error { return nil }
	require.NotNil(t, r.grpcTap())
	require.Error(t, r.traces.refuseEarlyGRPC(context.Background(), read))

	grpcCfg.Auth = configoptional.Some(configauth.Config{})
	assert.Nil(t, r.grpcTap(), "with auth")
	assert.NoError(t, r.traces.refuseEarlyGRPC(context.Background(), read), "with auth")

	grpcCfg.Auth = configoptional.None[configauth.Config]()
	grpcCfg.Middlewares = []configmiddleware.Config{{}}
	assert.Nil(t, r.grpcTap(), "with middlewares")
	assert.NoError(t, r.traces.refuseEarlyGRPC(context.Background(), read), "with middlewares")
}

func TestTenantOfHeadersMatchesClientMetadata(t *testing.T) {
	r, _ := handlerOnly(t, &sink{}, nil)
	md := metadata.MD{"x-scope-orgid": {"acme", "other"}, ":authority": {"gw:4317"}}
	for key, want := range map[string]string{"X-Scope-OrgID": "acme", "x-scope-orgid": "acme", "host": "gw:4317", "other": "", "": ""} {
		r.cfg.Admission.Tenant.MetadataKey = key
		ctx := contextWithClientMetadata(md)
		assert.Equal(t, r.tenant(ctx), r.tenantOf(md), key)
		assert.Equal(t, want, r.tenantOf(md), key)
	}
}

// contextWithClientMetadata is what configgrpc's include_metadata makes of request headers.
func contextWithClientMetadata(md metadata.MD) context.Context {
	copied := md.Copy()
	if len(md[client.MetadataHostName]) == 0 && len(md[":authority"]) > 0 {
		copied[client.MetadataHostName] = md[":authority"]
	}
	return client.NewContext(context.Background(), client.Info{Metadata: client.NewMetadata(copied)})
}

// TestGRPCTapHoldsBoundedStreams: grpc-go keeps the context of a stream its tap refused
// until the client's deadline, so the tap refuses only while fewer than tapHeldLimit such
// streams are held, then leaves refusals to the handler, and takes them up again as their
// deadlines pass. Streams without a deadline, or with one over the horizon, are the
// handler's.
func TestGRPCTapHoldsBoundedStreams(t *testing.T) {
	setTapHeldLimit(t, 2)
	synctest.Test(t, func(t *testing.T) {
		r, _ := handlerOnly(t, &sink{}, func(c *Config) {
			c.Protocols.GRPC.GetOrInsertDefault()
			c.Admission.MaxInflightRequests = 1
		})
		hold, _ := r.admit(context.Background(), "traces", "grpc", 0)
		defer hold()
		refuse := r.grpcTap()
		info := &tap.Info{FullMethodName: "/" + tracesService.ServiceName + "/Export"}
		atTap := func(ctx context.Context) bool {
			_, err := refuse(ctx, info)
			return err != nil
		}
		within := func(d time.Duration) context.Context {
			ctx, cancel := context.WithTimeout(context.Background(), d)
			t.Cleanup(cancel)
			return ctx
		}
		require.True(t, atTap(within(5*time.Second)))
		require.True(t, atTap(within(10*time.Second)))
		require.False(t, atTap(within(5*time.Second)), "past the limit the handler refuses")
		time.Sleep(5 * time.Second) // the first refused stream's deadline passes
		assert.Equal(t, int64(1), r.tapHeld.count(time.Now()))
		require.True(t, atTap(within(5*time.Second)), "refused at the tap again")

		time.Sleep(10 * time.Second)
		assert.Zero(t, r.tapHeld.count(time.Now()))
		assert.False(t, atTap(context.Background()), "no deadline: held until the connection closes")
		assert.False(t, atTap(within(heldHorizon*time.Second)), "a deadline past the horizon")
		assert.Zero(t, r.tapHeld.count(time.Now()))
	})
}

// TestGRPCTapRefusesOnlyClientsWithADeadline: a real client with a deadline is refused at
// the tap (and its stream counted as held), one without is refused by the handler; both
// get the same answer.
func TestGRPCTapRefusesOnlyClientsWithADeadline(t *testing.T) {
	r := startReceiver(t, &sink{}, func(c *Config) { c.Admission.MaxInflightRequests = 1 })
	hold, _ := r.admit(context.Background(), "traces", "grpc", 0)
	defer hold()
	client := ptraceotlp.NewGRPCClient(grpcConn(t, r))
	send := func(ctx context.Context) *status.Status {
		_, err := client.Export(ctx, ptraceotlp.NewExportRequestFromTraces(testTraces(1)))
		return status.Convert(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	atTap := send(ctx)
	assert.Equal(t, int64(1), r.tapHeld.count(time.Now()), "held at the tap")
	inHandler := send(t.Context())
	assert.Equal(t, int64(1), r.tapHeld.count(time.Now()), "the handler holds nothing")
	assert.Equal(t, atTap.Proto(), inHandler.Proto())
	assert.Equal(t, codes.ResourceExhausted, atTap.Code())
}

func TestHeldStreamsAreLetGoAtTheirDeadline(t *testing.T) {
	var h heldStreams
	t0 := time.Now()
	assert.Zero(t, h.count(t0))
	require.True(t, h.hold(t0, t0.Add(5*time.Second), 3))
	require.True(t, h.hold(t0, t0.Add(30*time.Second), 3))
	assert.Equal(t, int64(2), h.count(t0.Add(4999*time.Millisecond)))
	t5 := t0.Add(5 * time.Second)
	assert.Equal(t, int64(1), h.count(t5))
	assert.False(t, h.hold(t5, t5.Add(heldHorizon*time.Second), 3), "past the horizon")
	assert.True(t, h.hold(t5, t5.Add(-time.Second), 3), "already past")
	assert.Equal(t, int64(1), h.count(t5), "not counted")

	t1 := t0.Add(6 * time.Second)
	require.True(t, h.hold(t1, t1.Add(100*time.Millisecond), 3))
	require.True(t, h.hold(t1, t1.Add(63*time.Second), 3))
	assert.False(t, h.hold(t1, t1.Add(time.Second), 3), "at the limit")
	assert.Equal(t, int64(2), h.count(t1.Add(time.Second)))
	assert.Equal(t, int64(1), h.count(t1.Add(25*time.Second)))
	assert.Zero(t, h.count(t0.Add(time.Hour)), "a long quiet spell lets go of all")
	require.True(t, h.hold(t0.Add(time.Hour), t0.Add(time.Hour+time.Second), 3))
	assert.Equal(t, int64(1), h.count(t0.Add(time.Hour)))
}

// TestHeldStreamsTakeAnEarlierNowAsTheLatest: the tap reads the clock before it takes the
// ledger's lock, so a connection's hold can arrive with a now older than one already swept
// (even older than the first hold's). It is counted against the latest second seen: a
// stream whose deadline falls in a second already swept has been let go, and must not sit
// in a swept slot, where a later second's streams would write over it and leave total
// counting it for good (or, before base, index the slots with a negative second).
func TestHeldStreamsTakeAnEarlierNowAsTheLatest(t *testing.T) {
	var h heldStreams
	t0 := time.Now()
	require.True(t, h.hold(t0, t0.Add(60*time.Second), 100))
	require.NotPanics(t, func() { h.hold(t0.Add(-2500*time.Millisecond), t0.Add(-1500*time.Millisecond), 100) })
	assert.Equal(t, int64(1), h.count(t0.Add(13*time.Second)))
	assert.True(t, h.hold(t0.Add(12900*time.Millisecond), t0.Add(12950*time.Millisecond), 100), "a deadline in a swept second")
	assert.Equal(t, int64(1), h.count(t0.Add(14*time.Second)), "let go already")
	require.True(t, h.hold(t0.Add(14*time.Second), t0.Add(76500*time.Millisecond), 100)) // the same slot as second 13
	assert.Zero(t, h.count(t0.Add(time.Hour)), "every deadline has passed")
}
