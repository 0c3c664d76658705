//! A private `redis-server` process.

use std::io::{self, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::TestCertificates;

/// A `redis-server` on a free port of 127.0.0.1 that keeps nothing on disk, killed when
/// dropped.
#[derive(Debug)]
pub struct RedisServer {
    child: Child,
    addr: SocketAddr,
    password: Option<String>,
    /// The certificate and key of a TLS-only server.
    tls: Option<(PathBuf, PathBuf)>,
    /// More command-line configuration.
    args: Vec<String>,
    dir: tempfile::TempDir,
}

impl RedisServer {
    const READY_TIMEOUT: Duration = Duration::from_secs(10);

    /// Starts a server without a password.
    pub fn start() -> io::Result<Self> {
        Self::start_with_password(None)
    }

    /// Starts a server that requires `password` (for the `default` user), if given.
    pub fn start_with_password(password: Option<&str>) -> io::Result<Self> {
        Self::start_with(password, None, Vec::new())
    }

    /// Starts a server with more configuration directives on its command line, such as
    /// `["--user", "app on >secret ~* &* +@all -config"]`.
    pub fn start_with_args(args: &[&str]) -> io::Result<Self> {
        Self::start_with(None, None, args.iter().map(|&arg| arg.to_owned()).collect())
    }

    /// Starts a server that speaks only TLS (`rediss://`), with the server certificate of
    /// `certificates`; clients need not present one.
    pub fn start_with_tls(certificates: &TestCertificates) -> io::Result<Self> {
        Self::start_with(
            None,
            Some((certificates.cert_file(), certificates.key_file())),
            Vec::new(),
        )
    }

    fn start_with(
        password: Option<&str>,
        tls: Option<(PathBuf, PathBuf)>,
        args: Vec<String>,
    ) -> io::Result<Self> {
        let dir = tempfile::Builder::new().prefix("redis-server-").tempdir()?;
        let mut last_error = None;
        for _ in 0..5 {
            let addr = TcpListener::bind("127.0.0.1:0")?.local_addr()?;
            match Self::spawn(addr, password, tls.as_ref(), &args, &dir) {
                Ok(child) => {
                    return Ok(Self {
                        child,
                        addr,
                        password: password.map(str::to_owned),
                        tls,
                        args,
                        dir,
                    });
                }
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.unwrap_or_else(|| io::Error::other("redis-server did not start")))
    }

    fn spawn(
        addr: SocketAddr,
        password: Option<&str>,
        tls: Option<&(PathBuf, PathBuf)>,
        args: &[String],
        dir: &tempfile::TempDir,
    ) -> io::Result<Child> {
        let mut command = Command::new("redis-server");
        command.args(["--bind", "127.0.0.1"]);
        match tls {
            None => command.arg("--port").arg(addr.port().to_string()),
            Some((cert, key)) => command
                .args(["--port", "0", "--tls-port"])
                .arg(addr.port().to_string())
                .arg("--tls-cert-file")
                .arg(cert)
                .arg("--tls-key-file")
                .arg(key)
                .args(["--tls-auth-clients", "no"]),
        };
        command
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(password) = password {
            command.args(["--requirepass", password]);
        }
        command.args(args);
        let mut child = command.spawn().map_err(|error| {
            io::Error::new(
                error.kind(),
                format!("could not run `redis-server` ({error}); install it (Debian: `apt-get install redis-server`)"),
            )
        })?;
        let deadline = Instant::now() + Self::READY_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait()? {
                return Err(io::Error::other(format!(
                    "redis-server exited with {status}"
                )));
            }
            let up = match tls {
                None => ping(addr),
                // A TLS server does not answer plain text: that it accepts connections is
                // what there is to see without a TLS client.
                // Not a socket connected to itself (see `NatsServer`'s readiness check).
                Some(_) => TcpStream::connect_timeout(&addr, Duration::from_millis(100))
                    .is_ok_and(|stream| stream.local_addr().ok() != stream.peer_addr().ok()),
            };
            if up {
                return Ok(child);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("redis-server did not answer on {addr}"),
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's URL, `redis://[:password@]127.0.0.1:<port>` (`rediss://` with TLS).
    pub fn url(&self) -> String {
        match &self.password {
            Some(password) => format!("{}://:{password}@{}", self.scheme(), self.addr),
            None => self.url_without_password(),
        }
    }

    /// The URL without the password.
    pub fn url_without_password(&self) -> String {
        format!("{}://{}", self.scheme(), self.addr)
    }

    fn scheme(&self) -> &'static str {
        if self.tls.is_some() {
            "rediss"
        } else {
            "redis"
        }
    }

    /// How many clients are connected to the server now, besides the connection this asks
    /// over (`CLIENT LIST`). Not for a TLS server.
    pub fn clients(&self) -> io::Result<usize> {
        if self.tls.is_some() {
            return Err(io::Error::other(
                "RedisServer::clients speaks plain text: not for a TLS server",
            ));
        }
        let mut stream = TcpStream::connect_timeout(&self.addr, Duration::from_secs(2))?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        let mut request = Vec::new();
        if let Some(password) = &self.password {
            request.extend_from_slice(
                format!("*2\r\n$4\r\nAUTH\r\n${}\r\n{password}\r\n", password.len()).as_bytes(),
            );
        }
        request.extend_from_slice(b"*2\r\n$6\r\nCLIENT\r\n$4\r\nLIST\r\n*1\r\n$4\r\nQUIT\r\n");
        stream.write_all(&request)?;
        let mut reply = String::new();
        stream.read_to_string(&mut reply)?;
        // `+OK` for AUTH, then `$<length>` and one line per client, then `+OK` for QUIT.
        let list = reply
            .split_once('$')
            .and_then(|(_, bulk)| bulk.split_once("\r\n"))
            .and_then(|(length, rest)| rest.get(..length.parse::<usize>().ok()?))
            .ok_or_else(|| io::Error::other(format!("unexpected CLIENT LIST reply: {reply:?}")))?;
        Ok(list.lines().count().saturating_sub(1))
    }

    /// Kills the server (its data is gone); [`RedisServer::restart`] brings it back.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops the server and starts it again, empty, on the same port.
    pub fn restart(&mut self) -> io::Result<()> {
        self.stop();
        let deadline = Instant::now() + Self::READY_TIMEOUT;
        loop {
            match Self::spawn(
                self.addr,
                self.password.as_deref(),
                self.tls.as_ref(),
                &self.args,
                &self.dir,
            ) {
                Ok(child) => {
                    self.child = child;
                    return Ok(());
                }
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(error) => return Err(error),
            }
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether something answers Redis's `PING` on `addr` (a password-protected server answers
/// with an error, which counts: it is up).
fn ping(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(100)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut reply = [0u8; 1];
    matches!(stream.read(&mut reply), Ok(1) if reply[0] == b'+' || reply[0] == b'-')
}
