//! A private `nats-server` process.

use std::io::{self, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How to configure a [`NatsServer`].
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct NatsServerConfig {
    /// The server's `max_payload` in bytes (`None`: the server's default, 1 MiB).
    pub max_payload: Option<usize>,
    /// Whether to enable JetStream (with a store in the server's temporary directory).
    pub jetstream: bool,
    /// More configuration, verbatim (an `authorization` or `tls` block, say).
    pub extra: String,
    /// Whether to serve the HTTP monitoring endpoints (for [`NatsServer::connections`] and
    /// [`NatsServer::healthy`]).
    pub monitoring: bool,
}

impl NatsServerConfig {
    /// Sets `max_payload`.
    pub fn max_payload(mut self, bytes: usize) -> Self {
        self.max_payload = Some(bytes);
        self
    }

    /// Enables JetStream.
    pub fn jetstream(mut self) -> Self {
        self.jetstream = true;
        self
    }

    /// Serves the HTTP monitoring endpoints on a free port.
    pub fn monitoring(mut self) -> Self {
        self.monitoring = true;
        self
    }

    /// Appends `config` to the server's configuration file.
    pub fn extra(mut self, config: impl Into<String>) -> Self {
        self.extra.push_str(&config.into());
        self.extra.push('\n');
        self
    }
}

/// A `nats-server` on a free port of 127.0.0.1, killed when dropped.
#[derive(Debug)]
pub struct NatsServer {
    child: Child,
    addr: SocketAddr,
    /// The monitoring endpoints' address, if they are served.
    http: Option<SocketAddr>,
    config: NatsServerConfig,
    dir: tempfile::TempDir,
}

impl NatsServer {
    /// How long to wait for the server to accept connections.
    const READY_TIMEOUT: Duration = Duration::from_secs(10);

    /// Starts a server with JetStream enabled.
    pub fn start() -> io::Result<Self> {
        Self::start_with(NatsServerConfig::default().jetstream())
    }

    /// Starts a server with `config`.
    ///
    /// Fails with a message naming the binary if `nats-server` is not installed.
    pub fn start_with(config: NatsServerConfig) -> io::Result<Self> {
        let dir = tempfile::Builder::new().prefix("nats-server-").tempdir()?;
        // A port can be taken between choosing it and the server binding it: try a few.
        let mut last_error = None;
        for _ in 0..5 {
            let addr = free_port()?;
            let http = if config.monitoring {
                Some(free_port()?)
            } else {
                None
            };
            match Self::spawn(&config, &dir, addr, http) {
                Ok(child) => {
                    return Ok(Self {
                        child,
                        addr,
                        http,
                        config,
                        dir,
                    });
                }
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.unwrap_or_else(|| io::Error::other("nats-server did not start")))
    }

    fn spawn(
        config: &NatsServerConfig,
        dir: &tempfile::TempDir,
        addr: SocketAddr,
        http: Option<SocketAddr>,
    ) -> io::Result<Child> {
        let config_path = dir.path().join("nats-server.conf");
        let mut file = std::fs::File::create(&config_path)?;
        writeln!(file, "listen: \"{addr}\"")?;
        if let Some(http) = http {
            writeln!(file, "http: \"{http}\"")?;
        }
        if let Some(max_payload) = config.max_payload {
            writeln!(file, "max_payload: {max_payload}")?;
        }
        if config.jetstream {
            let store: PathBuf = dir.path().join("jetstream");
            writeln!(
                file,
                "jetstream {{ store_dir: {:?} }}",
                store.display().to_string()
            )?;
        }
        writeln!(file, "{}", config.extra)?;
        drop(file);
        let log = std::fs::File::create(dir.path().join(LOG))?;
        let mut child = Command::new("nats-server")
            .arg("-c")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|error| {
                io::Error::new(
                    error.kind(),
                    format!("could not run `nats-server` ({error}); install it (Debian: `apt-get install nats-server`)"),
                )
            })?;
        let deadline = Instant::now() + Self::READY_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait()? {
                let log = read_log(dir.path());
                return Err(io::Error::other(format!(
                    "nats-server exited with {status}: {log}"
                )));
            }
            if says_info(addr) {
                return Ok(child);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("nats-server did not listen on {addr}"),
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's URL, `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://{}", self.addr)
    }

    /// A directory that lives as long as the server, for files its configuration names.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Connects a new client.
    pub async fn connect(&self) -> Result<async_nats::Client, async_nats::ConnectError> {
        async_nats::connect(self.url()).await
    }

    /// The names of the client connections the server has now (an unnamed one is `""`), from
    /// its monitoring endpoint: the server must have been started with
    /// [`NatsServerConfig::monitoring`].
    pub fn connections(&self) -> io::Result<Vec<String>> {
        let (_, body) = self.monitoring_get("/connz?limit=100000")?;
        let connz: serde_json::Value = serde_json::from_slice(&body)?;
        Ok(connz["connections"]
            .as_array()
            .map(|connections| {
                connections
                    .iter()
                    .map(|c| c["name"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default())
    }

    /// What the server has logged so far.
    pub fn log(&self) -> String {
        read_log(self.dir.path())
    }

    /// Whether the server reports itself healthy on its monitoring endpoint (`/healthz`): it
    /// accepts connections and, with JetStream in a cluster, knows the cluster's meta leader and
    /// has caught up with it. Always `false` for a server started without
    /// [`NatsServerConfig::monitoring`].
    pub fn healthy(&self) -> bool {
        matches!(self.monitoring_get("/healthz"), Ok((200, _)))
    }

    /// `GET path` from the monitoring endpoint: the status code and the body.
    fn monitoring_get(&self, path: &str) -> io::Result<(u16, Vec<u8>)> {
        let http = self.http.ok_or_else(|| {
            io::Error::other(
                "start the server with NatsServerConfig::monitoring() to ask its monitoring endpoint",
            )
        })?;
        let mut stream = TcpStream::connect_timeout(&http, Duration::from_secs(2))?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response)?;
        let head_end = response
            .windows(4)
            .position(|window| window == b"\r\n\r\n")
            .ok_or_else(|| io::Error::other("the monitoring endpoint answered no HTTP body"))?;
        // "HTTP/1.0 200 OK": the code is the second word of the status line.
        let status = std::str::from_utf8(&response[..head_end])
            .ok()
            .and_then(|head| head.split_whitespace().nth(1))
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| io::Error::other("the monitoring endpoint answered no HTTP status"))?;
        Ok((status, response[head_end + 4..].to_vec()))
    }

    /// Whether the server process is running (not stopped, not exited).
    /// The server process's id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Stops the server and starts it again on the same port, with the same JetStream store.
    pub fn restart(&mut self) -> io::Result<()> {
        self.stop();
        let deadline = Instant::now() + Self::READY_TIMEOUT;
        loop {
            match Self::spawn(&self.config, &self.dir, self.addr, self.http) {
                Ok(child) => {
                    self.child = child;
                    return Ok(());
                }
                // The old socket may linger for a moment.
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100))
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Kills the server; [`NatsServer::restart`] brings it back.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The server's log file, in its directory.
const LOG: &str = "nats-server.log";

fn read_log(dir: &std::path::Path) -> String {
    std::fs::read_to_string(dir.join(LOG)).unwrap_or_default()
}

/// Whether a NATS server answers on `addr`: it greets with `INFO`. That a connection is
/// accepted is not enough: probing a free port of the ephemeral range can connect the socket
/// to itself (TCP simultaneous open) before the server listens.
fn says_info(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(100)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut greeting = [0u8; 4];
    matches!(stream.read_exact(&mut greeting), Ok(()) if &greeting == b"INFO")
}

pub(crate) fn free_port() -> io::Result<SocketAddr> {
    TcpListener::bind("127.0.0.1:0")?.local_addr()
}
