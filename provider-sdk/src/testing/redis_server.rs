//! A private `redis-server` process.

use std::io::{self, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `redis-server` on a free port of 127.0.0.1 that keeps nothing on disk, killed when
/// dropped.
#[derive(Debug)]
pub struct RedisServer {
    child: Child,
    addr: SocketAddr,
    password: Option<String>,
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
        let dir = tempfile::Builder::new().prefix("redis-server-").tempdir()?;
        let mut last_error = None;
        for _ in 0..5 {
            let addr = TcpListener::bind("127.0.0.1:0")?.local_addr()?;
            match Self::spawn(addr, password, &dir) {
                Ok(child) => {
                    return Ok(Self {
                        child,
                        addr,
                        password: password.map(str::to_owned),
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
        dir: &tempfile::TempDir,
    ) -> io::Result<Child> {
        let mut command = Command::new("redis-server");
        command
            .args(["--bind", "127.0.0.1", "--port"])
            .arg(addr.port().to_string())
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(password) = password {
            command.args(["--requirepass", password]);
        }
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
            if ping(addr) {
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

    /// The server's URL, `redis://[:password@]127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        match &self.password {
            Some(password) => format!("redis://:{password}@{}", self.addr),
            None => format!("redis://{}", self.addr),
        }
    }

    /// The URL without the password.
    pub fn url_without_password(&self) -> String {
        format!("redis://{}", self.addr)
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
            match Self::spawn(self.addr, self.password.as_deref(), &self.dir) {
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
