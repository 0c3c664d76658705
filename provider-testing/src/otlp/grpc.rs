//! OTLP/gRPC: the three collector services opentelemetry-proto generates, each decoding into the
//! store.

use std::convert::Infallible;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Request, Response};
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use tower_service::Service as _;

use super::Protocol;
use super::store::Store;

#[derive(Debug)]
struct Collector(Arc<Store>);

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.0.add_traces(Protocol::Grpc, request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl MetricsService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        self.0.add_metrics(Protocol::Grpc, request.into_inner());
        Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl LogsService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportLogsServiceRequest>,
    ) -> Result<tonic::Response<ExportLogsServiceResponse>, tonic::Status> {
        self.0.add_logs(Protocol::Grpc, request.into_inner());
        Ok(tonic::Response::new(ExportLogsServiceResponse::default()))
    }
}

/// The three services behind one endpoint, told apart by the gRPC path's service name.
#[derive(Debug, Clone)]
pub(super) struct Services {
    traces: TraceServiceServer<Collector>,
    metrics: MetricsServiceServer<Collector>,
    logs: LogsServiceServer<Collector>,
}

impl Services {
    pub(super) fn new(store: Arc<Store>) -> Self {
        let collector = Arc::new(Collector(store));
        Self {
            traces: TraceServiceServer::from_arc(collector.clone()),
            metrics: MetricsServiceServer::from_arc(collector.clone()),
            logs: LogsServiceServer::from_arc(collector),
        }
    }

    pub(super) async fn handle(
        mut self,
        request: Request<Incoming>,
    ) -> Result<Response<tonic::body::Body>, Infallible> {
        // The generated services are always ready (their `poll_ready` is `Ready(Ok)`), and each
        // answers a path it does not know with the gRPC status `Unimplemented`, so the trace
        // service takes whatever is neither metrics nor logs.
        let path = request.uri().path();
        if path.starts_with("/opentelemetry.proto.collector.metrics.v1.") {
            self.metrics.call(request).await
        } else if path.starts_with("/opentelemetry.proto.collector.logs.v1.") {
            self.logs.call(request).await
        } else {
            self.traces.call(request).await
        }
    }
}
