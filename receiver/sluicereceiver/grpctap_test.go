package sluicereceiver

import (
	"context"
	"testing"
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

	_, err := client.Export(t.Context(), ptraceotlp.NewExportRequestFromTraces(testTraces(10)))
	st := status.Convert(err)
	require.Equal(t, codes.ResourceExhausted, st.Code(), st.Message())
	assert.Equal(t, r.overRequests.Message, st.Message())
	delay, ok := backpressure.RetryDelay(st)
	require.True(t, ok, "RetryInfo on the wire")
	assert.Equal(t, 3*time.Second, delay)

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

// TestGRPCTapRefusesOnlyWhatTheGateWould: the tap reads the tenant from the headers as the
// handler reads it from client metadata, so a tenant over its share is refused before its
// message is read, naming its share, while another tenant is admitted.
func TestGRPCTapRefusesOnlyWhatTheGateWould(t *testing.T) {
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
		ctx := metadata.AppendToOutgoingContext(t.Context(), "X-Scope-OrgID", tenant)
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
	assert.Zero(t, refused.Data.(metricdata.Sum[int64]).DataPoints[0].Value, "refused at the tap, before the span was read")
	require.NoError(t, send("quiet"))
}

// TestGRPCTapStandsAsideForAuthAndMiddlewares: an authenticator or middlewares run before
// admission, so with either configured the tap is not installed and refusals happen after
// them, in the handler.
func TestGRPCTapStandsAsideForAuthAndMiddlewares(t *testing.T) {
	r, _ := handlerOnly(t, &sink{}, func(c *Config) { c.Protocols.GRPC.GetOrInsertDefault() })
	grpcCfg := r.cfg.Protocols.GRPC.Get()
	require.NotNil(t, r.grpcTap())

	grpcCfg.Auth = configoptional.Some(configauth.Config{})
	assert.Nil(t, r.grpcTap(), "with auth")

	grpcCfg.Auth = configoptional.None[configauth.Config]()
	grpcCfg.Middlewares = []configmiddleware.Config{{}}
	assert.Nil(t, r.grpcTap(), "with middlewares")
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

// TestGRPCTapHoldsBoundedContexts: grpc-go keeps the context of a stream its tap refused
// until the client's deadline, so the tap refuses only while fewer than tapHeldLimit such
// contexts live, then leaves refusals to the handler, and takes them up again as they end.
func TestGRPCTapHoldsBoundedContexts(t *testing.T) {
	defer func(limit int64) { tapHeldLimit = limit }(tapHeldLimit)
	tapHeldLimit = 2
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	r := startReceiverSet(t, metadatatest.NewSettings(tt), &sink{}, func(c *Config) {
		c.Admission.MaxInflightRequests = 1
	}, nil)
	hold, _ := r.admit(context.Background(), "traces", "grpc", 0)
	defer hold()
	refuse := r.grpcTap()
	info := &tap.Info{FullMethodName: "/" + tracesService.ServiceName + "/Export"}
	var cancels []context.CancelFunc
	atTap := func() bool {
		ctx, cancel := context.WithCancel(context.Background())
		cancels = append(cancels, cancel)
		_, err := refuse(ctx, info)
		return err != nil
	}
	defer func() {
		for _, c := range cancels {
			c()
		}
	}()
	require.True(t, atTap())
	require.True(t, atTap())
	require.False(t, atTap(), "past the limit the handler refuses")
	cancels[0]() // a refused stream's deadline passes
	require.Eventually(t, func() bool { return r.tapHeld.Load() == 1 }, time.Minute, time.Millisecond)
	require.True(t, atTap(), "refused at the tap again")
}
