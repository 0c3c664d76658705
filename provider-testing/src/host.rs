//! A stand-in for a wasmCloud host, to test a provider against real NATS without one.

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nkeys::XKey;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use provider_sdk::provider::{self, LinkKey, Provider, RunningProvider, RuntimeOptions, Startup};
use provider_sdk::transport::{Client, Transport};
use provider_sdk::wasmcloud::{
    self, Health, HostData, LinkDefinition, SecretValue, ShutdownRequest, config_bucket,
};
use provider_sdk::{Error, Result};

/// A link for a test: what [`TestHost::put_link`] publishes.
#[derive(Clone, Debug, Default)]
pub struct TestLink {
    definition: LinkDefinition,
    source_secrets: HashMap<String, SecretValue>,
    target_secrets: HashMap<String, SecretValue>,
}

impl TestLink {
    /// A link from component `source_id` to the provider `target`, under `name`, for
    /// `namespace:package/{interfaces}`.
    pub fn new(
        source_id: &str,
        target: &str,
        name: &str,
        (namespace, package): (&str, &str),
        interfaces: &[&str],
    ) -> Self {
        let mut definition = LinkDefinition::default();
        definition.source_id = source_id.to_owned();
        definition.target = target.to_owned();
        definition.name = name.to_owned();
        definition.wit_namespace = namespace.to_owned();
        definition.wit_package = package.to_owned();
        definition.interfaces = interfaces.iter().map(|i| (*i).to_owned()).collect();
        Self {
            definition,
            ..Self::default()
        }
    }

    /// Sets a target configuration value.
    pub fn target_config(mut self, key: &str, value: &str) -> Self {
        self.definition
            .target_config
            .insert(key.to_owned(), value.to_owned());
        self
    }

    /// Sets a source configuration value.
    pub fn source_config(mut self, key: &str, value: &str) -> Self {
        self.definition
            .source_config
            .insert(key.to_owned(), value.to_owned());
        self
    }

    /// Sets a target secret (sent sealed, as a host sends it).
    pub fn target_secret(mut self, key: &str, value: &str) -> Self {
        self.target_secrets
            .insert(key.to_owned(), SecretValue::String(value.to_owned()));
        self
    }

    /// Sets a source secret.
    pub fn source_secret(mut self, key: &str, value: &str) -> Self {
        self.source_secrets
            .insert(key.to_owned(), SecretValue::String(value.to_owned()));
        self
    }

    /// The link's key.
    pub fn key(&self) -> LinkKey {
        LinkKey::new(
            &self.definition.source_id,
            &self.definition.target,
            &self.definition.name,
        )
    }

    /// The definition as a host sends it, without secrets.
    pub fn definition(&self) -> &LinkDefinition {
        &self.definition
    }

    /// Whether the link has secrets (a host sends those sealed for the provider's xkey only).
    pub fn has_secrets(&self) -> bool {
        !self.source_secrets.is_empty() || !self.target_secrets.is_empty()
    }
}

/// Plays a wasmCloud host for one provider: starts it (in-process or as a child process fed
/// `HostData` on stdin), puts and deletes links (secrets sealed as a host seals them), puts
/// named configuration, asks for health and shutdown, and calls the provider's exports as a
/// component would.
pub struct TestHost {
    nats: async_nats::Client,
    url: String,
    transport: Transport,
    lattice: String,
    provider_id: String,
    host_id: String,
    host_xkey: XKey,
    provider_xkey: XKey,
    initial_links: Mutex<Vec<TestLink>>,
    config: Mutex<HashMap<String, String>>,
    otel_config: Mutex<serde_json::Value>,
    /// `OTEL_*` variables a spawned provider gets, as a host passes its own through.
    otel_env: Mutex<Vec<(String, String)>>,
    /// The user JWT and seed the provider is told to connect with.
    credentials: Option<(String, String)>,
}

impl std::fmt::Debug for TestHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestHost")
            .field("lattice", &self.lattice)
            .field("provider_id", &self.provider_id)
            .field("host_id", &self.host_id)
            .finish_non_exhaustive()
    }
}

impl TestHost {
    /// A host for `provider_id` on the NATS server at `url`, in a lattice of its own.
    pub async fn new(url: &str, provider_id: &str) -> Result<Self> {
        let nats = async_nats::connect(url)
            .await
            .map_err(|error| Error::Connect {
                url: provider::redact_credentials(url),
                attempts: 1,
                reason: error.to_string(),
            })?;
        Self::with_client(nats, url, provider_id).await
    }

    /// A host that uses `nats`, a connection made with whatever credentials the server asks
    /// for; `url` is the one the provider is told to connect to (in its `HostData`).
    pub async fn with_client(
        nats: async_nats::Client,
        url: &str,
        provider_id: &str,
    ) -> Result<Self> {
        let transport = Transport::nats(nats.clone()).await?;
        let mut suffix = [0u8; 4];
        // A lattice name no other test uses; uniqueness, not secrecy, is what matters here.
        if getrandom::getrandom(&mut suffix).is_err() {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.subsec_nanos());
            suffix = (nanos ^ std::process::id()).to_le_bytes();
        }
        let lattice = format!(
            "test{}",
            suffix
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        Ok(Self {
            nats,
            url: url.to_owned(),
            transport,
            lattice,
            provider_id: provider_id.to_owned(),
            host_id: "NTESTHOST".to_owned(),
            host_xkey: XKey::new(),
            provider_xkey: XKey::new(),
            initial_links: Mutex::new(Vec::new()),
            config: Mutex::new(HashMap::new()),
            otel_config: Mutex::new(serde_json::Value::Null),
            otel_env: Mutex::new(Vec::new()),
            credentials: None,
        })
    }

    /// Uses `lattice` instead of a lattice of its own (to drive a provider another host
    /// started, or to start one where others can find it).
    pub fn in_lattice(mut self, lattice: &str) -> Self {
        lattice.clone_into(&mut self.lattice);
        self
    }

    /// Plays the host `host_id` (`NTESTHOST` by default): the id the provider is started with
    /// and shutdown requests carry.
    pub fn with_host_id(mut self, host_id: &str) -> Self {
        host_id.clone_into(&mut self.host_id);
        self
    }

    /// Tells the provider (in its `HostData`) to connect with the user JWT `jwt` and its nkey
    /// `seed`, as a host does on a NATS server that asks for them.
    pub fn with_provider_credentials(mut self, jwt: &str, seed: &str) -> Self {
        self.credentials = Some((jwt.to_owned(), seed.to_owned()));
        self
    }

    /// The lattice.
    pub fn lattice(&self) -> &str {
        &self.lattice
    }

    /// The provider's id.
    pub fn provider_id(&self) -> &str {
        &self.provider_id
    }

    /// The host's id, which shutdown requests carry.
    pub fn host_id(&self) -> &str {
        &self.host_id
    }

    /// The host's NATS connection.
    pub fn nats(&self) -> &async_nats::Client {
        &self.nats
    }

    /// Makes `link` one of those the provider starts with (in its `HostData`).
    pub fn with_initial_link(&self, link: TestLink) -> &Self {
        lock(&self.initial_links).push(link);
        self
    }

    /// Sets a value of the provider's configuration (in its `HostData`).
    pub fn with_config(&self, key: &str, value: &str) -> &Self {
        lock(&self.config).insert(key.to_owned(), value.to_owned());
        self
    }

    /// Sets the `otel_config` the provider is started with (`../shared/PROTOCOL.md` §2).
    pub fn with_otel_config(&self, otel_config: serde_json::Value) -> &Self {
        *lock(&self.otel_config) = otel_config;
        self
    }

    /// Gives providers this host spawns the variable `name` (an `OTEL_*` one: a host passes
    /// only those and `RUST_LOG` through).
    ///
    /// # Panics
    ///
    /// If `name` does not start with `OTEL_`: a real host would not pass it.
    pub fn with_otel_env(&self, name: &str, value: &str) -> &Self {
        assert!(
            name.starts_with("OTEL_"),
            "a wasmCloud host passes only OTEL_* variables (and RUST_LOG), not {name}"
        );
        lock(&self.otel_env).push((name.to_owned(), value.to_owned()));
        self
    }

    /// The `HostData` a host would write for the provider.
    pub fn host_data(&self) -> Result<HostData> {
        let links = lock(&self.initial_links)
            .iter()
            .map(|link| self.sealed(link))
            .collect::<Result<Vec<_>>>()?;
        let provider_xkey_private_key =
            self.provider_xkey.seed().map_err(|error| Error::Secrets {
                reason: error.to_string(),
            })?;
        let mut data = HostData::default();
        data.host_id = self.host_id.clone();
        data.lattice_rpc_prefix = self.lattice.clone();
        data.lattice_rpc_url = self.url.clone();
        if let Some((jwt, seed)) = &self.credentials {
            data.lattice_rpc_user_jwt = jwt.clone();
            data.lattice_rpc_user_seed = seed.clone();
        }
        data.provider_key = self.provider_id.clone();
        data.instance_id = "test-instance".to_owned();
        data.link_name = "default".to_owned();
        data.link_definitions = links;
        data.config = lock(&self.config).clone();
        data.otel_config = lock(&self.otel_config).clone();
        data.host_xkey_public_key = self.host_xkey.public_key();
        data.provider_xkey_private_key = provider_xkey_private_key;
        Ok(data)
    }

    /// Starts `provider` in this process, as if this host had started it.
    pub async fn start<P: Provider>(&self, provider: P) -> Result<RunningProvider> {
        self.start_with(provider, RuntimeOptions::default()).await
    }

    /// Like [`TestHost::start`], with options.
    pub async fn start_with<P: Provider>(
        &self,
        provider: P,
        options: RuntimeOptions,
    ) -> Result<RunningProvider> {
        provider::start(
            provider,
            Startup::from_host_data(self.host_data()?)?,
            options,
        )
        .await
    }

    /// Starts the provider executable at `program` as a host does: a cleared environment
    /// (`RUST_LOG` kept), `HostData` on stdin, then stdin closed. Its stderr is collected.
    pub async fn spawn(&self, program: &Path) -> Result<ChildProvider> {
        self.spawn_command(program, child_command(program)).await
    }

    /// Like [`TestHost::spawn`], but the provider writes to this process's stdout and stderr
    /// as it goes (a tool that shows a provider's log), so [`ChildProvider::logs`] stays empty.
    pub async fn spawn_attached(&self, program: &Path) -> Result<ChildProvider> {
        let mut command = child_command(program);
        command.stdout(Stdio::inherit()).stderr(Stdio::inherit());
        self.spawn_command(program, command).await
    }

    async fn spawn_command(
        &self,
        program: &Path,
        mut command: tokio::process::Command,
    ) -> Result<ChildProvider> {
        let line = self.host_data()?.to_stdin_line();
        command.envs(lock(&self.otel_env).iter().cloned());
        command.stdin(Stdio::piped());
        let mut child = command
            .spawn()
            .map_err(|error| cannot_run(program, error))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(line.as_bytes())
                .await
                .map_err(|error| cannot_run(program, error))?;
        }
        Ok(ChildProvider::watch(child))
    }

    /// Starts `program` as a process without a host, as a user starting it by hand from a
    /// service manager would: stdin empty, settings from the environment (`NATS_URL` as
    /// `nats_url`, this host's lattice and provider id, then `env`, which may override them).
    pub fn spawn_standalone(
        &self,
        program: &Path,
        nats_url: &str,
        env: &[(&str, &str)],
    ) -> Result<ChildProvider> {
        self.spawn_standalone_with_args(program, nats_url, &[], env)
    }

    /// Like [`TestHost::spawn_standalone`], with command-line arguments `args` too (as a
    /// container's `args:` gives them).
    pub fn spawn_standalone_with_args(
        &self,
        program: &Path,
        nats_url: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Result<ChildProvider> {
        let mut command = child_command(program);
        command
            .args(args)
            .stdin(Stdio::null())
            .env("NATS_URL", nats_url)
            .env("WASMCLOUD_LATTICE", &self.lattice)
            .env("WASMCLOUD_PROVIDER_ID", &self.provider_id)
            .envs(env.iter().copied());
        let child = command
            .spawn()
            .map_err(|error| cannot_run(program, error))?;
        Ok(ChildProvider::watch(child))
    }

    /// Publishes a link put as a wasmCloud host does: a copy without secrets on the
    /// provider-id subject (only for a link without secrets), then the put with its secrets
    /// sealed on the subject named after the provider's xkey.
    pub async fn put_link(&self, link: &TestLink) -> Result<()> {
        if !link.has_secrets() {
            self.put_link_copy(link).await?;
        }
        self.put_link_sealed(link).await
    }

    /// Publishes only the sealed put (as a host without backwards-compatible copies does).
    pub async fn put_link_sealed(&self, link: &TestLink) -> Result<()> {
        let sealed = self.sealed(link)?;
        let subject =
            wasmcloud::sealed_link_put_subject(&self.lattice, &self.provider_xkey.public_key());
        self.publish(subject, &sealed).await
    }

    /// Publishes only the copy of a link put (a host that sends no sealed put).
    pub async fn put_link_copy(&self, link: &TestLink) -> Result<()> {
        let subject = wasmcloud::link_put_subject(&self.lattice, &self.provider_id);
        self.publish(subject, &link.definition).await
    }

    /// Publishes a link delete as a host does: configuration and secrets emptied.
    pub async fn delete_link(&self, link: &TestLink) -> Result<()> {
        let mut definition = link.definition.clone();
        definition.source_config.clear();
        definition.target_config.clear();
        let subject = wasmcloud::link_delete_subject(&self.lattice, &self.provider_id);
        self.publish(subject, &definition).await
    }

    /// Publishes the provider's whole configuration, as a host does when it changes.
    pub async fn update_config(&self, config: &HashMap<String, String>) -> Result<()> {
        let subject = wasmcloud::config_update_subject(&self.lattice, &self.provider_id);
        self.publish(subject, config).await
    }

    /// Puts a named configuration into `CONFIGDATA_<lattice>`, creating the bucket if needed.
    pub async fn put_named_config(
        &self,
        name: &str,
        values: &HashMap<String, String>,
    ) -> Result<()> {
        let js = async_nats::jetstream::new(self.nats.clone());
        let store =
            wasmcloud::open_or_create_kv_bucket(&js, &config_bucket(&self.lattice), 1, 1).await?;
        let json = serde_json::to_vec(values).unwrap_or_default();
        store
            .put(name, json.into())
            .await
            .map_err(|error| nats_error("kv put", error))?;
        Ok(())
    }

    /// Asks the provider how it is.
    pub async fn health(&self) -> Result<Health> {
        let subject = wasmcloud::health_subject(&self.lattice, &self.provider_id);
        let reply = self.request(subject, Vec::new()).await?;
        serde_json::from_slice(&reply.payload).map_err(|_| Error::Protocol {
            subject: wasmcloud::health_subject(&self.lattice, &self.provider_id),
            detail: "the health reply is not JSON",
        })
    }

    /// Asks the provider to shut down, as this host; returns the reply.
    pub async fn shutdown(&self) -> Result<String> {
        self.shutdown_as(&self.host_id.clone()).await
    }

    /// Asks the provider to shut down as the host `host_id`.
    pub async fn shutdown_as(&self, host_id: &str) -> Result<String> {
        let subject = wasmcloud::shutdown_subject(&self.lattice, &self.provider_id);
        let body = serde_json::to_vec(&ShutdownRequest {
            host_id: host_id.to_owned(),
        })
        .unwrap_or_default();
        let reply = self
            .request_with(subject, body, Duration::from_secs(30))
            .await?;
        Ok(String::from_utf8_lossy(&reply.payload).into_owned())
    }

    /// A client for the provider's exports, calling as component `source_id` over link
    /// `link_name`.
    pub fn component(&self, source_id: &str, link_name: &str) -> Result<Client> {
        self.transport
            .client(format!("{}.{}", self.lattice, self.provider_id))
            .with_header("source-id", source_id)?
            .with_header("link-name", link_name)
    }

    /// The transport this host calls on (to serve a component's exports, say).
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    fn sealed(&self, link: &TestLink) -> Result<LinkDefinition> {
        let mut definition = link.definition.clone();
        let provider = self.provider_xkey.public_key();
        let seal = |secrets: &HashMap<String, SecretValue>| -> Result<Option<Vec<u8>>> {
            if secrets.is_empty() {
                return Ok(None);
            }
            wasmcloud::seal_secrets(secrets, &self.host_xkey, &provider).map(Some)
        };
        definition.source_secrets = seal(&link.source_secrets)?;
        definition.target_secrets = seal(&link.target_secrets)?;
        Ok(definition)
    }

    async fn publish(&self, subject: String, body: &impl serde::Serialize) -> Result<()> {
        let json = serde_json::to_vec(body).unwrap_or_default();
        self.nats
            .publish(subject, json.into())
            .await
            .map_err(|error| nats_error("publish", error))?;
        self.nats
            .flush()
            .await
            .map_err(|error| nats_error("flush", error))
    }

    async fn request(&self, subject: String, body: Vec<u8>) -> Result<async_nats::Message> {
        self.request_with(subject, body, Duration::from_secs(10))
            .await
    }

    async fn request_with(
        &self,
        subject: String,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<async_nats::Message> {
        let request = self.nats.request(subject.clone(), body.into());
        match tokio::time::timeout(timeout, request).await {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(error)) => Err(nats_error("request", error)),
            Err(_) => Err(Error::Timeout {
                subject,
                after: timeout,
            }),
        }
    }
}

/// A command for `program` as a host runs it: a cleared environment (`RUST_LOG` kept), stdout
/// dropped, stderr kept, killed when dropped.
fn child_command(program: &Path) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(program);
    command
        .env_clear()
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Ok(filter) = std::env::var("RUST_LOG") {
        command.env("RUST_LOG", filter);
    }
    command
}

fn cannot_run(program: &Path, error: std::io::Error) -> Error {
    Error::Startup {
        reason: format!("cannot run {} ({error})", program.display()),
    }
}

/// A provider running as a child process.
#[derive(Debug)]
pub struct ChildProvider {
    child: tokio::process::Child,
    logs: Arc<Mutex<String>>,
}

impl ChildProvider {
    /// Keeps what `child` writes to stderr.
    fn watch(mut child: tokio::process::Child) -> Self {
        let logs = Arc::new(Mutex::new(String::new()));
        if let Some(mut stderr) = child.stderr.take() {
            let logs = Arc::clone(&logs);
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                while let Ok(read @ 1..) = stderr.read(&mut buffer).await {
                    lock(&logs).push_str(&String::from_utf8_lossy(&buffer[..read]));
                }
            });
        }
        Self { child, logs }
    }

    /// What the provider has written to stderr so far.
    pub fn logs(&self) -> String {
        lock(&self.logs).clone()
    }

    /// Waits for the process to exit, up to `timeout`.
    pub async fn wait(&mut self, timeout: Duration) -> Result<std::process::ExitStatus> {
        match tokio::time::timeout(timeout, self.child.wait()).await {
            Ok(Ok(status)) => Ok(status),
            Ok(Err(error)) => Err(Error::Startup {
                reason: format!("waiting for the provider failed ({error})"),
            }),
            Err(_) => Err(Error::Timeout {
                subject: "provider process".to_owned(),
                after: timeout,
            }),
        }
    }

    /// Sends SIGTERM (Unix): the provider drains and exits.
    #[cfg(unix)]
    pub fn terminate(&self) -> Result<()> {
        self.signal("-TERM")
    }

    /// Kills the process at once (SIGKILL): a crash, with nothing drained or answered.
    #[cfg(unix)]
    pub async fn kill(&mut self) -> Result<std::process::ExitStatus> {
        self.signal("-KILL")?;
        self.wait(Duration::from_secs(10)).await
    }

    /// The process id, while it runs.
    pub fn id(&self) -> Option<u32> {
        self.child.id()
    }

    #[cfg(unix)]
    fn signal(&self, signal: &str) -> Result<()> {
        let pid = self.child.id().ok_or(Error::Closed)?;
        let status = std::process::Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .map_err(|error| Error::Startup {
                reason: format!("cannot run `kill` ({error})"),
            })?;
        if status.success() {
            Ok(())
        } else {
            Err(Error::Closed)
        }
    }
}

/// The resident memory (`VmRSS`) of process `pid` in KiB, from `/proc` (Linux); `None` once
/// the process is gone, or where there is no `/proc`. A [`ChildProvider::id`] gives the pid.
pub fn resident_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Retries `check` until it returns `true`, for up to twenty seconds; returns whether it did.
/// For waiting on what a provider applies in the background (a link put, a config change).
pub async fn eventually<F, Fut>(check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    within(Duration::from_secs(20), check).await.is_some()
}

/// Retries `check` (every 20 ms) until it returns `true`, for up to `bound`; returns how long
/// it took, or `None` if it never did. For a test that states and reports a bound (how long a
/// change takes to apply, a cluster to elect a leader).
pub async fn within<F, Fut>(bound: Duration, mut check: F) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = tokio::time::Instant::now();
    loop {
        if check().await {
            return Some(start.elapsed());
        }
        if start.elapsed() > bound {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A NATS client failure during `op`, as the SDK reports one.
fn nats_error(op: &'static str, source: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::Nats {
        op,
        source: Box::new(source),
    }
}

/// The CPU time process `pid` has used so far (user and system, all threads), from
/// `/proc/<pid>/stat`, in clock ticks of 10 ms; `None` if the process is gone.
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; the fields after it are plain numbers.
    let after_name = &stat[stat.rfind(')')? + 2..];
    let mut fields = after_name.split_whitespace();
    // utime and stime are fields 14 and 15 of the whole line: 12th and 13th after the name.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_count_this_process_working() {
        let pid = std::process::id();
        let before = cpu_ticks(pid).expect("this process has a stat file");
        // Spin until at least 3 ticks (30 ms of CPU) show, or fail after 5 s of wall time.
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while cpu_ticks(pid).unwrap() < before + 3 {
            for i in 0..100_000u64 {
                x = std::hint::black_box(x.wrapping_add(i));
            }
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "no CPU time counted"
            );
        }
        assert_eq!(cpu_ticks(u32::MAX), None);
    }
}
