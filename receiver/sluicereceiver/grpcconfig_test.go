package sluicereceiver

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configauth"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"
	"go.opentelemetry.io/collector/extension/extensionauth"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	grpcmetadata "google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/sluicehq/sluice/receiver/sluicereceiver/internal/metadata"
)

// The configgrpc keys that act around the handler (interceptors and server options) still
// apply now that the receiver serves raw bytes.

// tokenAuth lets in requests whose "token" header is "secret".
type tokenAuth struct{}

func (tokenAuth) Start(context.Context, component.Host) error { return nil }
func (tokenAuth) Shutdown(context.Context) error              { return nil }

func (tokenAuth) Authenticate(ctx context.Context, headers map[string][]string) (context.Context, error) {
	if v := headers["token"]; len(v) == 1 && v[0] == "secret" {
		return ctx, nil
	}
	return ctx, errors.New("bad token")
}

var _ extensionauth.Server = tokenAuth{}

type hostWithExtensions map[component.ID]component.Component

func (h hostWithExtensions) GetExtensions() map[component.ID]component.Component { return h }

// startGRPCOnly runs a traces receiver with gRPC only, on host, counting decoded requests.
func startGRPCOnly(t *testing.T, host component.Host, mutate func(*Config)) (*otlpReceiver, *atomic.Int64) {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.Protocols.GRPC.GetOrInsertDefault().NetAddr.Endpoint = "127.0.0.1:0"
	mutate(cfg)
	r, err := newReceiver(cfg, receivertest.NewNopSettings(metadata.Type))
	require.NoError(t, err)
	r.traces = newTracesSignal(r, (&sink{}).traces())
	var decoded atomic.Int64
	r.traces.decoder = func(enc *encoding, req ptraceotlp.ExportRequest, body []byte) error {
		decoded.Add(1)
		return enc.unmarshal(req, body)
	}
	require.NoError(t, r.Start(t.Context(), host))
	t.Cleanup(func() { require.NoError(t, r.Shutdown(context.Background())) })
	return r, &decoded
}

func TestGRPCAuthRunsBeforeDecoding(t *testing.T) {
	authID := component.MustNewID("tokenauth")
	r, decoded := startGRPCOnly(t, hostWithExtensions{authID: tokenAuth{}}, func(c *Config) {
		c.Protocols.GRPC.Get().Auth = configoptional.Some(configauth.Config{AuthenticatorID: authID})
	})
	cc := grpcConn(t, r)
	body, _ := ptraceotlp.NewExportRequestFromTraces(testTraces(3)).MarshalProto()
	st := status.Convert(exportRaw(t.Context(), cc, "traces", body))
	assert.Equal(t, codes.Unauthenticated, st.Code(), st.Message())
	assert.Zero(t, decoded.Load(), "an unauthenticated request is not decoded")
	ctx := grpcmetadata.AppendToOutgoingContext(t.Context(), "token", "secret")
	require.NoError(t, exportRaw(ctx, cc, "traces", body))
	assert.Equal(t, int64(1), decoded.Load())
}

func TestGRPCIncludeMetadataFeedsTheTenantShare(t *testing.T) {
	entered, leave := make(chan struct{}), make(chan struct{})
	var first atomic.Bool
	s := &sink{onCall: func() {
		if first.CompareAndSwap(false, true) {
			close(entered)
			<-leave
		}
	}}
	r := startReceiver(t, s, func(c *Config) {
		c.Protocols.GRPC.Get().IncludeMetadata = true
		c.Admission.MaxInflightRequests = 2
		c.Admission.Tenant = TenantConfig{MetadataKey: "X-Scope-OrgID", MaxShare: 0.5, MaxTenants: 10}
	})
	cc := grpcConn(t, r)
	body, _ := ptraceotlp.NewExportRequestFromTraces(testTraces(1)).MarshalProto()
	as := func(tenant string) context.Context {
		return grpcmetadata.AppendToOutgoingContext(t.Context(), "X-Scope-OrgID", tenant)
	}
	done := make(chan error)
	go func() { done <- exportRaw(as("greedy"), cc, "traces", body) }()
	<-entered
	st := status.Convert(exportRaw(as("greedy"), cc, "traces", body))
	assert.Equal(t, codes.ResourceExhausted, st.Code())
	assert.Contains(t, st.Message(), `tenant "greedy"`)
	assert.NoError(t, exportRaw(as("quiet"), cc, "traces", body))
	close(leave)
	assert.NoError(t, <-done)
}

func TestGRPCMaxRecvMsgSizeStillBounds(t *testing.T) {
	r, decoded := startGRPCOnly(t, hostWithExtensions{}, func(c *Config) {
		c.Protocols.GRPC.Get().MaxRecvMsgSizeMiB = 1
	})
	st := status.Convert(exportRaw(t.Context(), grpcConn(t, r), "traces", make([]byte, 1<<20+1)))
	assert.Equal(t, codes.ResourceExhausted, st.Code(), st.Message())
	assert.Zero(t, decoded.Load())
}

// selfSigned is a certificate for 127.0.0.1, PEM encoded, and a pool that trusts it.
func selfSigned(t *testing.T) (certPEM, keyPEM []byte, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sluice test"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:   time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), pool
}

func TestGRPCOverTLS(t *testing.T) {
	certPEM, keyPEM, pool := selfSigned(t)
	r, decoded := startGRPCOnly(t, hostWithExtensions{}, func(c *Config) {
		c.Protocols.GRPC.Get().TLS = configoptional.Some(configtls.ServerConfig{
			Config: configtls.Config{CertPem: configopaque.String(certPEM), KeyPem: configopaque.String(keyPEM)},
		})
	})
	cc, err := grpc.NewClient(r.grpcAddr.String(), grpc.WithTransportCredentials(credentials.NewClientTLSFromCert(pool, "")))
	require.NoError(t, err)
	t.Cleanup(func() { _ = cc.Close() })
	_, err = ptraceotlp.NewGRPCClient(cc).Export(t.Context(), ptraceotlp.NewExportRequestFromTraces(testTraces(4)))
	require.NoError(t, err)
	assert.Equal(t, int64(1), decoded.Load())
}
