//! A private cluster of `nats-server` processes routed to each other, with JetStream.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::nats_server::{NatsServer, NatsServerConfig, free_port};

/// Several `nats-server` processes on free ports of 127.0.0.1, routed to each other as one
/// cluster, each with JetStream and a store folder of its own; any node can be killed (as a
/// crash: SIGKILL) and restarted with its store. Every node is killed when the cluster is
/// dropped, pass or fail.
#[derive(Debug)]
pub struct NatsCluster {
    name: String,
    nodes: Vec<NatsServer>,
}

impl NatsCluster {
    /// How long a node may take to join the cluster and catch up with its JetStream.
    const READY_TIMEOUT: Duration = Duration::from_secs(30);

    /// Starts `size` routed nodes (at least 1) with JetStream and monitoring, and waits until
    /// every one of them is healthy: JetStream's meta leader elected and known to all, so a
    /// stream with `size` replicas can be created at once.
    pub fn start(size: usize) -> io::Result<Self> {
        Self::start_with(size, NatsServerConfig::default())
    }

    /// Like [`NatsCluster::start`], each node also configured by `config` (its `max_payload`,
    /// say); JetStream and monitoring are always on.
    pub fn start_with(size: usize, config: NatsServerConfig) -> io::Result<Self> {
        // A route port can be taken between choosing it and a node binding it (the node then
        // exits): start again on fresh ports a few times.
        let mut attempt = 0;
        loop {
            attempt += 1;
            match Self::try_start(size.max(1), &config) {
                Err(error) if error.kind() == io::ErrorKind::AddrInUse && attempt < 5 => {}
                result => return result,
            }
        }
    }

    fn try_start(size: usize, config: &NatsServerConfig) -> io::Result<Self> {
        static CLUSTERS: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "test-{}-{}",
            std::process::id(),
            CLUSTERS.fetch_add(1, Ordering::Relaxed)
        );
        // The route ports are chosen before any node starts: each node names all the others.
        let routes = (0..size)
            .map(|_| free_port())
            .collect::<io::Result<Vec<SocketAddr>>>()?;
        let nodes = (0..size)
            .map(|index| {
                let others = routes
                    .iter()
                    .enumerate()
                    .filter(|(other, _)| *other != index)
                    .map(|(_, addr)| format!("\"nats-route://{addr}\""))
                    .collect::<Vec<_>>()
                    .join(", ");
                let membership = format!(
                    "server_name: {}\ncluster {{\n  name: {name}\n  listen: \"{}\"\n  routes: [{others}]\n}}",
                    Self::server_name(index),
                    routes[index],
                );
                NatsServer::start_with(config.clone().jetstream().monitoring().extra(membership))
            })
            .collect::<io::Result<Vec<_>>>()?;
        let mut cluster = Self { name, nodes };
        for index in 0..size {
            cluster.wait_healthy(index)?;
        }
        Ok(cluster)
    }

    /// The `server_name` of node `index` (what JetStream reports as a stream's leader).
    pub fn server_name(index: usize) -> String {
        format!("n{index}")
    }

    /// The index of the node called `server_name`, if it is one of this cluster's.
    pub fn index_of(&self, server_name: &str) -> Option<usize> {
        (0..self.nodes.len()).find(|index| Self::server_name(*index) == server_name)
    }

    /// The cluster's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How many nodes the cluster has (running or not).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the cluster has no node (never: it has at least one).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Node `index`.
    ///
    /// # Panics
    /// If `index` is not below [`NatsCluster::len`].
    pub fn node(&self, index: usize) -> &NatsServer {
        &self.nodes[index]
    }

    /// The URL of node `index`.
    pub fn url(&self, index: usize) -> String {
        self.node(index).url()
    }

    /// Every node's URL, comma-separated: what a client given the whole cluster is told.
    pub fn urls(&self) -> String {
        self.nodes
            .iter()
            .map(NatsServer::url)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Kills node `index` at once (SIGKILL: no goodbye to clients or routes).
    pub fn kill(&mut self, index: usize) {
        self.nodes[index].stop();
    }

    /// Starts node `index` again, on its ports and with its JetStream store, and waits until
    /// it has rejoined the cluster and caught up.
    pub fn restart(&mut self, index: usize) -> io::Result<()> {
        self.nodes[index].restart()?;
        self.wait_healthy(index)
    }

    /// Waits until node `index` reports itself healthy; fails at once, with its log, if it
    /// exited (an error of kind `AddrInUse` if its route port was taken).
    pub fn wait_healthy(&mut self, index: usize) -> io::Result<()> {
        let deadline = Instant::now() + Self::READY_TIMEOUT;
        while !self.nodes[index].healthy() {
            let failure = if !self.nodes[index].is_running() {
                let log = self.nodes[index].log();
                let kind = if log.contains("address already in use") {
                    io::ErrorKind::AddrInUse
                } else {
                    io::ErrorKind::Other
                };
                Some((kind, "exited".to_owned()))
            } else if Instant::now() > deadline {
                Some((
                    io::ErrorKind::TimedOut,
                    format!("was not healthy within {:?}", Self::READY_TIMEOUT),
                ))
            } else {
                None
            };
            if let Some((kind, what)) = failure {
                return Err(io::Error::new(
                    kind,
                    format!(
                        "node {} of cluster {} {what}; its log:\n{}",
                        Self::server_name(index),
                        self.name,
                        self.nodes[index].log()
                    ),
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }
}
