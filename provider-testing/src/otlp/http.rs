//! OTLP/HTTP with protobuf bodies: `POST /v1/{traces,metrics,logs}`.

use http_body_util::{BodyExt as _, Full, LengthLimitError, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_ENCODING, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;

use super::store::Store;
use super::{Protocol, Signal};

/// Larger than any batch an exporter sends by default; a bound so a runaway body is refused.
const MAX_BODY: usize = 64 << 20;

const PROTOBUF: &str = "application/x-protobuf";

/// Answers one request; every failure is an HTTP status with a reason as the body.
pub(super) async fn handle(store: &Store, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let signal = match request.uri().path() {
        "/v1/traces" => Signal::Traces,
        "/v1/metrics" => Signal::Metrics,
        "/v1/logs" => Signal::Logs,
        path => return reason(StatusCode::NOT_FOUND, format!("no OTLP signal at {path}")),
    };
    if request.method() != Method::POST {
        return reason(StatusCode::METHOD_NOT_ALLOWED, "OTLP/HTTP takes POST");
    }
    let headers = request.headers();
    let is_protobuf = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with(PROTOBUF));
    if !is_protobuf {
        return reason(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("this receiver takes {PROTOBUF} only (not JSON)"),
        );
    }
    if headers
        .get(CONTENT_ENCODING)
        .is_some_and(|encoding| encoding != "identity")
    {
        return reason(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "this receiver takes uncompressed bodies only",
        );
    }
    let body = match Limited::new(request.into_body(), MAX_BODY).collect().await {
        Ok(body) => body.to_bytes(),
        Err(error) if error.is::<LengthLimitError>() => {
            return reason(StatusCode::PAYLOAD_TOO_LARGE, error.to_string());
        }
        Err(error) => return reason(StatusCode::BAD_REQUEST, error.to_string()),
    };
    let decoded = match signal {
        Signal::Traces => ExportTraceServiceRequest::decode(body).map(|request| {
            store.add_traces(Protocol::Http, request);
            ExportTraceServiceResponse::default().encode_to_vec()
        }),
        Signal::Metrics => ExportMetricsServiceRequest::decode(body).map(|request| {
            store.add_metrics(Protocol::Http, request);
            ExportMetricsServiceResponse::default().encode_to_vec()
        }),
        Signal::Logs => ExportLogsServiceRequest::decode(body).map(|request| {
            store.add_logs(Protocol::Http, request);
            ExportLogsServiceResponse::default().encode_to_vec()
        }),
    };
    match decoded {
        Ok(answer) => {
            let mut response = Response::new(Full::new(Bytes::from(answer)));
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(PROTOBUF));
            response
        }
        Err(error) => reason(
            StatusCode::BAD_REQUEST,
            format!("not an OTLP {signal} export request: {error}"),
        ),
    }
}

fn reason(status: StatusCode, text: impl Into<String>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(text.into())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
