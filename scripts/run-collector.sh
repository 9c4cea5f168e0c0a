#!/usr/bin/env bash
# Started by `make run` through cmd/chlocal, which sets CLICKHOUSE_ENDPOINT (and
# CLICKHOUSE_HTTP_URL when it runs the embedded server). Prints where to send data and how
# to look at what arrived, then becomes the collector.
set -euo pipefail
bin=$1 config=$2
http=${CLICKHOUSE_HTTP_URL:-}
cat >&2 <<MSG

otelcol-sluice is starting with ${config}
  ClickHouse:   ${CLICKHOUSE_ENDPOINT}
  send OTLP to: grpc localhost:4317, http http://localhost:4318/v1/{traces,metrics,logs}
  for example:  go run github.com/open-telemetry/opentelemetry-collector-contrib/cmd/telemetrygen@v0.161.0 traces --otlp-insecure --traces 100
MSG
if [ -n "$http" ]; then
  cat >&2 <<MSG
  what arrived: curl '${http}/?query=SELECT+count()+FROM+otel.otel_traces'
                curl '${http}/?query=SELECT+ServiceName,SpanName,Duration+FROM+otel.otel_traces+ORDER+BY+Timestamp+DESC+LIMIT+10'
MSG
fi
echo "  stop:         Ctrl-C (stops the collector, then ClickHouse)" >&2
echo >&2
# The collector's telemetry.newPipelineTelemetry gate labels every component's metrics with
# its id (otel_scope_otelcol_component_id), so two sluice receivers or two clickhouselanes
# exporters show as separate series on the dashboard.
exec "$bin" --feature-gates=telemetry.newPipelineTelemetry --config "$config"
