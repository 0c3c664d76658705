//! An OpenTelemetry collector stand-in for tests: [`OtlpReceiver`] takes OTLP exports over
//! HTTP (protobuf bodies) and gRPC, decodes them with the types `opentelemetry-proto`
//! generates, and keeps what arrived for the test to check. [`dead_endpoint`] and
//! [`Blackhole`] stand for a collector that is not there: one refuses connections, the other
//! takes them and never answers.

mod grpc;
mod http;
mod store;

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hyper::body::{Body, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

use self::store::Store;
pub use self::store::{CAPACITY, ReceivedLog, ReceivedMetric, ReceivedSpan, attribute};
/// The generated OTLP types, for naming what the receiver hands back.
pub use opentelemetry_proto as proto;

/// One of the telemetry signals OTLP carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signal {
    /// Spans.
    Traces,
    /// Metrics.
    Metrics,
    /// Log records.
    Logs,
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Traces => "traces",
            Self::Metrics => "metrics",
            Self::Logs => "logs",
        })
    }
}

/// The two ways OTLP travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// OTLP/HTTP with protobuf bodies.
    Http,
    /// OTLP/gRPC.
    Grpc,
}

/// Nothing matching arrived in time: what a wait reports instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitTimeout {
    /// The signal waited for.
    pub signal: Signal,
    /// How long the wait lasted.
    pub waited: Duration,
    /// How many items of the signal had arrived, none matching.
    pub received: usize,
    /// The names (of spans and metrics) or bodies (of log records) of the first of them.
    pub first: Vec<String>,
}

impl fmt::Display for WaitTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "nothing matching arrived in the {} received within {:?}: {} received",
            self.signal, self.waited, self.received
        )?;
        if !self.first.is_empty() {
            write!(f, ", the first {:?}", self.first)?;
        }
        Ok(())
    }
}

impl std::error::Error for WaitTimeout {}

/// A collector on free ports of 127.0.0.1, taking OTLP/HTTP and OTLP/gRPC exports of traces,
/// metrics and logs, and keeping (up to [`CAPACITY`] items per signal) what it decoded.
/// Dropping it stops both servers and closes their connections.
#[derive(Debug)]
pub struct OtlpReceiver {
    store: Arc<Store>,
    http: SocketAddr,
    grpc: SocketAddr,
    /// The servers; dropping the set aborts them.
    _servers: JoinSet<()>,
}

impl OtlpReceiver {
    /// Starts both servers; must be called within a Tokio runtime, which then runs them.
    pub async fn start() -> io::Result<Self> {
        let store = Arc::new(Store::default());
        let http_listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let grpc_listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let http = http_listener.local_addr()?;
        let grpc = grpc_listener.local_addr()?;

        let mut servers = JoinSet::new();
        let http_store = store.clone();
        servers.spawn(serve(http_listener, move |request| {
            let store = http_store.clone();
            async move { Ok::<_, Infallible>(http::handle(&store, request).await) }
        }));
        let services = grpc::Services::new(store.clone());
        servers.spawn(serve(grpc_listener, move |request| {
            services.clone().handle(request)
        }));
        Ok(Self {
            store,
            http,
            grpc,
            _servers: servers,
        })
    }

    /// The OTLP/HTTP base URL, `http://127.0.0.1:PORT`, without the `/v1/<signal>` path.
    pub fn http_endpoint(&self) -> String {
        format!("http://{}", self.http)
    }

    /// The OTLP/gRPC endpoint, `http://127.0.0.1:PORT`.
    pub fn grpc_endpoint(&self) -> String {
        format!("http://{}", self.grpc)
    }

    /// Every span received so far, in order of arrival.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.store.all()
    }

    /// Every metric received so far (one per metric in each export), in order of arrival.
    pub fn metrics(&self) -> Vec<ReceivedMetric> {
        self.store.all()
    }

    /// Every log record received so far, in order of arrival.
    pub fn logs(&self) -> Vec<ReceivedLog> {
        self.store.all()
    }

    /// How many export requests of `signal` arrived over `protocol` and decoded.
    pub fn requests(&self, signal: Signal, protocol: Protocol) -> u64 {
        self.store.requests(signal, protocol)
    }

    /// How many items of `signal` arrived after [`CAPACITY`] were kept, and were not kept.
    pub fn dropped(&self, signal: Signal) -> u64 {
        self.store.dropped(signal)
    }

    /// Waits up to `timeout` for a span that `matches`; returns every one received that does.
    pub async fn wait_for_spans(
        &self,
        matches: impl Fn(&ReceivedSpan) -> bool,
        timeout: Duration,
    ) -> Result<Vec<ReceivedSpan>, WaitTimeout> {
        self.store.wait_for(matches, timeout).await
    }

    /// Waits up to `timeout` for a metric that `matches`; returns every one received that
    /// does.
    pub async fn wait_for_metrics(
        &self,
        matches: impl Fn(&ReceivedMetric) -> bool,
        timeout: Duration,
    ) -> Result<Vec<ReceivedMetric>, WaitTimeout> {
        self.store.wait_for(matches, timeout).await
    }

    /// Waits up to `timeout` for a log record that `matches`; returns every one received that
    /// does.
    pub async fn wait_for_logs(
        &self,
        matches: impl Fn(&ReceivedLog) -> bool,
        timeout: Duration,
    ) -> Result<Vec<ReceivedLog>, WaitTimeout> {
        self.store.wait_for(matches, timeout).await
    }
}

/// Serves HTTP/1 and HTTP/2 (by the connection's preface) on `listener` until aborted; its
/// connections are tasks of its own, so aborting it closes them too.
async fn serve<F, Fut, B>(listener: TcpListener, handle: F)
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<Response<B>, Infallible>> + Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // Out of descriptors, say: waiting lets connections close rather than spinning.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let service = service_fn(handle.clone());
        connections.spawn(async move {
            // A client that hangs up or speaks nonsense ends its connection, nothing more.
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// An `http://` URL on a loopback port where nothing listens (bound, then closed), so a
/// connection is refused at once. Another process could take the port afterwards, but the
/// kernel hands out ephemeral ports in turn, so not soon.
pub fn dead_endpoint() -> String {
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .expect("binding a free port of 127.0.0.1");
    let addr = listener
        .local_addr()
        .expect("a bound listener has an address");
    format!("http://{addr}")
}

/// A collector that hangs: a listener on a loopback port that accepts connections and never
/// reads, answers nor closes them, until dropped.
#[derive(Debug)]
pub struct Blackhole {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Blackhole {
    /// Beyond this many connections held, it stops accepting: the kernel's backlog, then
    /// unanswered handshakes, keep later clients waiting just the same.
    const MAX_HELD: usize = 1024;

    /// Starts it; must be called within a Tokio runtime, which then runs it.
    pub async fn start() -> io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while held.len() < Self::MAX_HELD {
                match listener.accept().await {
                    Ok((stream, _)) => held.push(stream),
                    Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                }
            }
            // Keeps the listener and the connections open until aborted.
            std::future::pending::<()>().await;
        });
        Ok(Self { addr, task })
    }

    /// Its URL, `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Blackhole {
    fn drop(&mut self) {
        self.task.abort();
    }
}
