//! Hostile callers: a raw NATS client sends every function the keyvalue provider
//! serves random bytes, oversized length prefixes, truncated params, never-ending streams and
//! garbage on the subjects the server creates for a call, a bounded amount of each, while a
//! well-behaved component keeps calling. The provider runs as a child process, as under a host,
//! so what is measured is its own resident memory and its own log.
//!
//! What must hold:
//! - every call of the well-behaved client succeeds, during the flood and after it;
//! - every hostile invocation with a reply subject is answered: a handshake if it names the
//!   linked component, a refusal if not; and one that can never complete (a length claim past
//!   the limit, params ended early) is ended at once with an empty results channel, not left
//!   to the server's one-minute deadline;
//! - the provider stays healthy, keeps running, never panics, exits 0 when shut down, and its
//!   resident memory stays within a fixed margin of what it used before the flood, although
//!   more than that margin is sent to it to be dropped.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_nats::{HeaderMap, Subject, Subscriber};
use bytes::Bytes;
use futures::StreamExt as _;
use futures::future::join_all;
use keyvalue_provider::KeyValueProvider;
use keyvalue_provider::client::wasi::keyvalue as wasi;
use keyvalue_provider::client::wrpc::keyvalue::{atomics, batch, store};
use provider_sdk::provider::{Health, Provider as _};
use provider_sdk::transport::{Client, ServeOptions, Transport};
use provider_sdk::wire::{self, ByteSlice, Encode};
use provider_testing::{ChildProvider, NatsServer, TestHost, TestLink, eventually, resident_kib};

const PROVIDER: &str = "keyvalue-provider";

/// How long the server may take to answer an invocation, or to end one that cannot complete.
/// Far below its one-minute invocation deadline: ending "at once" must not mean "at the deadline".
const ANSWER_WITHIN: Duration = Duration::from_secs(5);

/// The deadline of each of the well-behaved client's calls.
const GOOD_CALL_DEADLINE: Duration = Duration::from_secs(5);

/// How much the provider's resident memory may grow over the flood. What it must keep is small:
/// the never-completed values of the held streams (`HELD_PER_FUNCTION` for each function, under
/// 10 MiB for the 19 it serves, up to twice that while their buffers grow) and a few hundred
/// calls left open; the rest is headroom for allocator slack and NATS buffers. The flood sends
/// the provider more than this that it must drop (`DISCARDED_PER_FUNCTION` and
/// `TRAILING_PER_FUNCTION` for each function, 114 MiB, printed at the end), so keeping what it
/// should drop breaks the bound.
const RSS_MARGIN_KIB: u64 = 64 << 10;

/// The random traffic is reproducible: the same seed, the same bytes, the same failure. Each
/// function and kind of traffic draws from its own generator, seeded from this, the function's
/// name and the kind, so that running them concurrently changes nothing.
const SEED: u64 = 0x1417_0e5e_c0ff_ee14;

/// Random invocations per function.
const RANDOM_PER_FUNCTION: usize = 16;
/// Length claims no sender can back, as LEB128: `u32::MAX` (the longest a string or list may
/// claim), one past the 64 MiB value limit, 2^32 (past a `u32`: invalid), and 2^63 and
/// 2^64 - 1 in ten bytes (invalid as well).
const OVERSIZED_CLAIMS: [u64; 5] = [u32::MAX as u64, (64 << 20) + 1, 1 << 32, 1 << 63, u64::MAX];
/// Calls per function left without an answer to their handshake, incomplete and complete.
const UNANSWERED_PER_FUNCTION: usize = 4;
/// The length a held stream's first param claims: within the limit, so the server must wait.
const HELD_CLAIM: u64 = 8 << 20;
/// What a held stream sends of that claim (and then nothing, never ending it).
const HELD_PER_FUNCTION: usize = 512 << 10;
/// What follows an oversized claim, per function: all of it must be dropped.
const DISCARDED_PER_FUNCTION: usize = 4 << 20;
/// What follows complete params, per function, never ended: all of it must be dropped.
const TRAILING_PER_FUNCTION: usize = 2 << 20;
/// Chunks of the never-ending streams.
const CHUNK: usize = 64 << 10;
/// Sub-channels opened on one call: past the SDK's limit of 1024 per call.
const TOO_MANY_CHANNELS: usize = 1100;

/// A reproducible pseudo-random source (xorshift64*): no dependency, and a fixed seed makes
/// every run send the same traffic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, len: usize) -> Bytes {
        (0..len).map(|_| self.next() as u8).collect()
    }

    /// Printable text of `1..=max` characters from `alphabet`.
    fn text(&mut self, alphabet: &[u8], max: usize) -> String {
        let len = 1 + self.below(max);
        (0..len)
            .map(|_| char::from(alphabet[self.below(alphabet.len())]))
            .collect()
    }
}

/// Unsigned LEB128, as lengths are written (and as any claim can be written).
fn leb128(mut value: u64) -> Vec<u8> {
    let mut out = Vec::new();
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
    out
}

/// One function the provider serves: its invocation subject and the params of a real call,
/// one encoded field each.
struct Function {
    subject: String,
    /// The subject without the lattice and provider: the same in every run.
    name: String,
    fields: Vec<Field>,
}

/// One encoded param of a real call.
struct Field {
    bytes: Bytes,
    /// Whether it starts with a length (a string, a list, a resource handle).
    sized: bool,
}

/// A string, list or handle param.
fn sized(value: impl Encode) -> Field {
    Field {
        bytes: wire::encode(value).unwrap(),
        sized: true,
    }
}

/// Any other param.
fn plain(value: impl Encode) -> Field {
    Field {
        bytes: wire::encode(value).unwrap(),
        sized: false,
    }
}

impl Function {
    /// A random source for traffic of kind `kind` to this function.
    fn rng(&self, kind: u64) -> Rng {
        let seed = self.name.bytes().fold(SEED ^ kind, |seed, byte| {
            seed.rotate_left(5) ^ u64::from(byte)
        });
        Rng(seed | 1)
    }

    /// The params of the real call.
    fn params(&self) -> Bytes {
        let fields: Vec<&[u8]> = self.fields.iter().map(|field| &field.bytes[..]).collect();
        fields.concat().into()
    }

    /// The fields that start with a length.
    fn sized_fields(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.fields.len()).filter(|&field| self.fields[field].sized)
    }

    /// The real call's fields before `field` (a sized one), then the length claim `claim`.
    fn claiming(&self, field: usize, claim: u64) -> Bytes {
        assert!(
            self.fields[field].sized,
            "{}: field {field} has no length",
            self.subject
        );
        let mut params = Vec::new();
        for before in &self.fields[..field] {
            params.extend_from_slice(&before.bytes);
        }
        params.extend(leb128(claim));
        params.into()
    }
}

/// Every function the provider serves, found by serving the provider's own exports on an
/// in-process transport under the prefix the binary serves them under: the same generated code,
/// so a function added to the WIT is attacked too (and `real_fields` must learn it).
async fn served_functions(prefix: &str) -> Vec<Function> {
    let server = Transport::in_process().server(ServeOptions::new(prefix));
    let serving = Arc::new(KeyValueProvider::default())
        .serve(&server)
        .await
        .unwrap();
    serving
        .subjects()
        .iter()
        .map(|subject| Function {
            fields: real_fields(subject),
            name: subject[prefix.len() + 1..].to_owned(),
            subject: subject.clone(),
        })
        .collect()
}

/// The params of a real call of the function `subject` names, a field at a time. `wasi:keyvalue`
/// takes a bucket handle where `wrpc:keyvalue` takes a bucket name; both are a length and bytes
/// on the wire, so one table serves both (a handle `b` is unknown: the call fails in the handler,
/// which is as real a call as any).
fn real_fields(subject: &str) -> Vec<Field> {
    let bucket = || sized("b");
    let key = || sized("k");
    // The WIT function name is the subject's last token (`bucket.get` ends in `get`).
    match subject.rsplit('.').next().unwrap_or_default() {
        "open" => vec![bucket()],
        "get" | "delete" | "exists" => vec![bucket(), key()],
        "set" => vec![bucket(), key(), sized(ByteSlice(b"v"))],
        "list-keys" => vec![bucket(), plain(Some(0u64))],
        "increment" => vec![bucket(), key(), plain(1u64)],
        "get-many" | "delete-many" => vec![bucket(), sized(vec!["k", "l"])],
        "set-many" => vec![bucket(), sized(vec![("k", ByteSlice(b"v"))])],
        _ => panic!("the provider serves {subject}, which this test does not know: add its params"),
    }
}

/// How the server answered an invocation.
#[derive(Debug)]
enum Answer {
    /// A handshake with the server's reply subject `R_s`.
    Accepted(Subject),
    /// A handshake without one: the link check said no.
    Refused,
    /// Nothing within `ANSWER_WITHIN`.
    Silent,
}

/// How a call's results channel went.
#[derive(Debug, PartialEq)]
enum Ending {
    /// Ended (an empty message) after this many bytes of results.
    Ended { result_bytes: usize },
    /// Not ended within `ANSWER_WITHIN`.
    Open,
}

/// Counts of what the hostile client did, for the report.
#[derive(Default)]
struct Tally {
    invocations: AtomicU64,
    accepted: AtomicU64,
    refused: AtomicU64,
    messages: AtomicU64,
    bytes: AtomicU64,
}

/// A caller that speaks raw NATS: it writes whatever bytes it likes and plays the wRPC exchange
/// only as far as it chooses to.
struct Hostile {
    nats: async_nats::Client,
    /// `source-id` and `link-name` of the linked component: what gets an invocation past the
    /// link check and into the params decoder.
    link: HeaderMap,
    next_call: AtomicU64,
    /// Calls accepted and not ended by us, ended at the end of the flood (`end_all`).
    open: Mutex<Vec<Subject>>,
    tally: Tally,
}

impl Hostile {
    fn new(nats: async_nats::Client) -> Self {
        let mut link = HeaderMap::new();
        link.insert("source-id", "comp");
        link.insert("link-name", "default");
        Self {
            nats,
            link,
            next_call: AtomicU64::new(0),
            open: Mutex::default(),
            tally: Tally::default(),
        }
    }

    async fn publish(&self, subject: String, payload: Bytes) {
        self.tally.messages.fetch_add(1, Ordering::Relaxed);
        self.tally
            .bytes
            .fetch_add(payload.len() as u64, Ordering::Relaxed);
        self.nats.publish(subject, payload).await.unwrap();
    }

    /// Publishes an invocation of `subject` without a reply subject: nobody to answer.
    async fn fire(&self, subject: &str, headers: Option<HeaderMap>, payload: Bytes) {
        self.tally.invocations.fetch_add(1, Ordering::Relaxed);
        let subject = subject.to_owned();
        match headers {
            Some(headers) => {
                self.nats
                    .publish_with_headers(subject, headers, payload)
                    .await
            }
            None => self.nats.publish(subject, payload).await,
        }
        .unwrap();
    }

    /// Publishes an invocation of `subject` with a reply subject `R_c` of its own and waits for
    /// the server's answer. The call keeps `R_c` subscribed, to see its results.
    async fn invoke(&self, subject: &str, headers: Option<HeaderMap>, payload: Bytes) -> Call {
        self.tally.invocations.fetch_add(1, Ordering::Relaxed);
        let id = self.next_call.fetch_add(1, Ordering::Relaxed);
        // `R_c` and `R_c.results` both match `hostile.<id>.>`.
        let reply = format!("hostile.{id}.c");
        let mut subscriber = self
            .nats
            .subscribe(format!("hostile.{id}.>"))
            .await
            .unwrap();
        let subject = subject.to_owned();
        match headers {
            Some(headers) => {
                self.nats
                    .publish_with_reply_and_headers(
                        subject.clone(),
                        reply.clone(),
                        headers,
                        payload,
                    )
                    .await
            }
            None => {
                self.nats
                    .publish_with_reply(subject.clone(), reply.clone(), payload)
                    .await
            }
        }
        .unwrap();
        let answer = match tokio::time::timeout(ANSWER_WITHIN, subscriber.next()).await {
            Ok(Some(handshake)) if handshake.subject.as_str() == reply => match handshake.reply {
                Some(server) => {
                    self.tally.accepted.fetch_add(1, Ordering::Relaxed);
                    Answer::Accepted(server)
                }
                None => {
                    self.tally.refused.fetch_add(1, Ordering::Relaxed);
                    Answer::Refused
                }
            },
            Ok(Some(other)) => panic!("{subject}: expected a handshake, got {other:?}"),
            Ok(None) | Err(_) => Answer::Silent,
        };
        Call {
            subject,
            subscriber,
            answer,
        }
    }

    /// Invokes with the linked component's headers; the call must be accepted.
    async fn invoke_linked(&self, subject: &str, payload: Bytes) -> Call {
        let call = self.invoke(subject, Some(self.link.clone()), payload).await;
        call.server();
        call
    }

    /// Sends `payload` to the call's params channel `R_s.params`.
    async fn send(&self, call: &Call, payload: Bytes) {
        self.publish(format!("{}.params", call.server()), payload)
            .await;
    }

    /// Sends `total` bytes to the call's params channel in chunks, never ending it.
    async fn stream(&self, call: &Call, rng: &mut Rng, total: usize) {
        let mut sent = 0;
        while sent < total {
            let len = CHUNK.min(total - sent);
            self.send(call, rng.bytes(len)).await;
            sent += len;
        }
        self.leave_open(call);
    }

    /// Ends the call's params (an empty message).
    async fn end(&self, call: &Call) {
        self.send(call, Bytes::new()).await;
    }

    /// Leaves the call open (neither answered nor ended) until `end_all`.
    fn leave_open(&self, call: &Call) {
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(call.server().clone());
    }

    /// Ends every call left open, so that the server is not left holding them until its
    /// deadline. Returns how many there were.
    async fn end_all(&self) -> usize {
        let open = std::mem::take(&mut *self.open.lock().unwrap_or_else(PoisonError::into_inner));
        for server in &open {
            self.publish(format!("{server}.params"), Bytes::new()).await;
        }
        self.nats.flush().await.unwrap();
        open.len()
    }
}

/// One hostile invocation and its reply subscription.
struct Call {
    subject: String,
    subscriber: Subscriber,
    answer: Answer,
}

impl Call {
    /// The server's reply subject `R_s`; the call must have been accepted.
    fn server(&self) -> &Subject {
        match &self.answer {
            Answer::Accepted(server) => server,
            answer => panic!("{}: expected a handshake, got {answer:?}", self.subject),
        }
    }

    /// Waits for the results channel to end.
    async fn ending(&mut self) -> Ending {
        let deadline = tokio::time::Instant::now() + ANSWER_WITHIN;
        let mut result_bytes = 0;
        loop {
            match tokio::time::timeout_at(deadline, self.subscriber.next()).await {
                Ok(Some(message)) if message.subject.ends_with(".results") => {
                    if message.payload.is_empty() {
                        return Ending::Ended { result_bytes };
                    }
                    result_bytes += message.payload.len();
                }
                Ok(Some(message)) => panic!("{}: unexpected {message:?}", self.subject),
                Ok(None) | Err(_) => return Ending::Open,
            }
        }
    }

    /// The results channel must end with no results: the server gave up on the params.
    async fn ends_without_results(&mut self, what: &str) {
        let ending = self.ending().await;
        assert_eq!(
            ending,
            Ending::Ended { result_bytes: 0 },
            "{}: {what}",
            self.subject
        );
    }
}

/// Runs `attack` on every function at once.
async fn on_every_function<'a, F, Fut>(functions: &'a [Function], attack: F)
where
    F: Fn(&'a Function) -> Fut,
    Fut: Future<Output = ()>,
{
    join_all(functions.iter().map(attack)).await;
}

/// Headers for a random invocation: none, junk, the linked component's, or those plus junk.
/// Returns them and whether they get the invocation past the link check.
fn random_headers(rng: &mut Rng, link: &HeaderMap) -> (Option<HeaderMap>, bool) {
    const TOKEN: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789-";
    // Any printable ASCII: what a NATS header value may hold.
    let value: Vec<u8> = (b' '..=b'~').collect();
    let kind = rng.below(4);
    if kind == 0 {
        return (None, false);
    }
    let linked = kind >= 2;
    let mut headers = if linked {
        link.clone()
    } else {
        HeaderMap::new()
    };
    if kind != 2 {
        for _ in 0..1 + rng.below(4) {
            let name = format!("x-{}", rng.text(TOKEN, 16));
            headers.insert(name.as_str(), rng.text(&value, 64).as_str());
        }
        // A trace context that is not one.
        headers.insert("traceparent", rng.text(&value, 64).as_str());
        if !linked {
            headers.insert("source-id", rng.text(TOKEN, 16).as_str());
        }
    }
    (Some(headers), linked)
}

/// (1) Random bytes as invocations: with and without a reply subject, with and without headers.
/// Those the link check lets in get random endings: none, an end, or more random bytes and an
/// end; those that are ended must be ended by the server in turn.
async fn random_bytes(hostile: &Hostile, functions: &[Function]) {
    on_every_function(functions, |function| async move {
        let mut rng = function.rng(1);
        for _ in 0..RANDOM_PER_FUNCTION {
            let len = if rng.below(8) == 0 {
                rng.below(64 << 10)
            } else {
                rng.below(64)
            };
            let payload = rng.bytes(len);
            let (headers, linked) = random_headers(&mut rng, &hostile.link);
            if rng.below(4) == 0 {
                hostile.fire(&function.subject, headers, payload).await;
                continue;
            }
            let mut call = hostile.invoke(&function.subject, headers, payload).await;
            if !linked {
                assert!(
                    matches!(call.answer, Answer::Refused),
                    "{}: an unlinked caller got {:?}",
                    call.subject,
                    call.answer
                );
                continue;
            }
            match rng.below(3) {
                0 => hostile.leave_open(&call),
                then => {
                    if then == 2 {
                        let more = rng.below(256);
                        hostile.send(&call, rng.bytes(more)).await;
                    }
                    hostile.end(&call).await;
                    let ending = call.ending().await;
                    assert!(
                        matches!(ending, Ending::Ended { .. }),
                        "{}: random params, ended, were never answered",
                        call.subject
                    );
                }
            }
        }
    })
    .await;
}

/// (2) Length claims no sender could back, at the start of each field of a real call: the
/// server ends the call at once, without waiting for bytes that cannot come.
async fn oversized_claims(hostile: &Hostile, functions: &[Function]) {
    on_every_function(functions, |function| async move {
        for field in function.sized_fields() {
            for claim in OVERSIZED_CLAIMS {
                let mut call = hostile
                    .invoke_linked(&function.subject, function.claiming(field, claim))
                    .await;
                call.ends_without_results(&format!("field {field} claims {claim} bytes"))
                    .await;
            }
        }
    })
    .await;
}

/// (3) Every proper prefix of a real call's params, sent with the invocation or after the
/// handshake, then the end of params: the server ends the call without results.
async fn truncated_params(hostile: &Hostile, functions: &[Function]) {
    on_every_function(functions, |function| async move {
        let params = function.params();
        for cut in 0..params.len() {
            let prefix = params.slice(..cut);
            for in_invocation in [true, false] {
                let first = if in_invocation {
                    prefix.clone()
                } else {
                    Bytes::new()
                };
                let mut call = hostile.invoke_linked(&function.subject, first).await;
                if !in_invocation && !prefix.is_empty() {
                    hostile.send(&call, prefix.clone()).await;
                }
                hostile.end(&call).await;
                call.ends_without_results(&format!(
                    "{cut} of {} bytes, then the end",
                    params.len()
                ))
                .await;
            }
        }
    })
    .await;
}

/// (4) Never-ending streams, and handshakes never answered.
async fn never_ending(hostile: &Hostile, functions: &[Function]) {
    on_every_function(functions, |function| async move {
        let params = function.params();
        let mut rng = function.rng(4);
        for _ in 0..UNANSWERED_PER_FUNCTION {
            // Half the params, and silence: the call holds a permit until its deadline (or
            // until `end_all`).
            let call = hostile
                .invoke_linked(&function.subject, params.slice(..params.len() / 2))
                .await;
            hostile.leave_open(&call);
            // All the params, and silence: the server needs no end of params to run the call.
            let mut call = hostile
                .invoke_linked(&function.subject, params.clone())
                .await;
            let ending = call.ending().await;
            assert!(
                matches!(ending, Ending::Ended { result_bytes } if result_bytes > 0),
                "{}: complete params without an end of params got {ending:?}",
                call.subject
            );
        }
        // A claim within the limit, fed but never completed: the server holds what came.
        let call = hostile
            .invoke_linked(&function.subject, function.claiming(0, HELD_CLAIM))
            .await;
        hostile.stream(&call, &mut rng, HELD_PER_FUNCTION).await;
        // A claim past the limit, then megabytes more: the call ended at the claim, and what
        // follows must be dropped.
        let mut call = hostile
            .invoke_linked(&function.subject, function.claiming(0, u32::MAX.into()))
            .await;
        hostile
            .stream(&call, &mut rng, DISCARDED_PER_FUNCTION)
            .await;
        call.ends_without_results("a claim past the limit, then a stream")
            .await;
        // Complete params, then megabytes more, never ended: the call runs (or fails on the
        // trailing bytes if they are there first), and what follows must be dropped.
        let mut call = hostile.invoke_linked(&function.subject, params).await;
        hostile.stream(&call, &mut rng, TRAILING_PER_FUNCTION).await;
        let ending = call.ending().await;
        assert!(
            matches!(ending, Ending::Ended { .. }),
            "{}: complete params followed by a stream got {ending:?}",
            call.subject
        );
    })
    .await;
}

/// (5) Garbage on the subjects the server creates for a call (`R_s`): a second handshake, data
/// for sub-channels nobody opened, other channel names, malformed paths, calls that do not
/// exist; then the end of params: the call ends without results. And one call given more
/// sub-channels than a call may have: the server ends it by itself.
async fn garbage_on_server_subjects(hostile: &Hostile, functions: &[Function]) {
    on_every_function(functions, |function| async move {
        let mut rng = function.rng(5);
        let mut call = hostile.invoke_linked(&function.subject, Bytes::new()).await;
        let server = call.server().to_string();
        let (inbox, id) = server.rsplit_once('.').unwrap();
        let id: u64 = id.parse().unwrap();
        let mut targets = vec![
            server.clone(),
            format!("{server}.results"),
            format!("{server}.{}", rng.text(b"abcxyz", 8)),
            format!("{server}.params.x.y"),
            format!("{server}.params.-1"),
            format!("{server}.params.99999999999999999999999"),
            format!("{server}.params.0.{}", u64::MAX),
            format!("{inbox}.{}.params", id + 1_000_000),
            format!("{inbox}.{}9.params", u64::MAX),
            format!("{inbox}.junk.params"),
        ];
        for _ in 0..8 {
            let depth = 1 + rng.below(4);
            let path: String = (0..depth).map(|_| format!(".{}", rng.below(4))).collect();
            targets.push(format!("{server}.params{path}"));
        }
        for target in targets {
            let len = rng.below(256);
            hostile.publish(target.clone(), rng.bytes(len)).await;
            // The end of a channel that is not the call's params.
            hostile.publish(target, Bytes::new()).await;
        }
        // A handshake to the server, with a reply subject and headers of its own.
        hostile
            .nats
            .publish_with_reply_and_headers(
                server.clone(),
                "hostile.nowhere",
                hostile.link.clone(),
                rng.bytes(16),
            )
            .await
            .unwrap();
        hostile.end(&call).await;
        call.ends_without_results("garbage on the server's subjects, then the end")
            .await;

        let mut call = hostile.invoke_linked(&function.subject, Bytes::new()).await;
        for channel in 0..TOO_MANY_CHANNELS {
            hostile
                .publish(
                    format!("{}.params.{channel}", call.server()),
                    Bytes::from_static(b"x"),
                )
                .await;
        }
        hostile.leave_open(&call);
        call.ends_without_results("more sub-channels than a call may have")
            .await;
    })
    .await;
}

/// Samples the provider's resident memory until stopped (or the process is gone); returns the
/// peak.
fn sample_rss(pid: u32, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<u64> {
    tokio::spawn(async move {
        let mut peak = 0;
        while let Some(rss) = resident_kib(pid) {
            peak = peak.max(rss);
            if stop.load(Ordering::Relaxed) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        peak
    })
}

/// One round of the well-behaved component: each interface, checked against what it wrote.
/// Returns how many calls it made.
async fn good_round(kv: &Client, round: u64) -> Result<u64, String> {
    let key = format!("k{}", round % 64);
    let value = round.to_string();
    let failed =
        |call: &str, error: &dyn std::fmt::Debug| format!("round {round}: {call}: {error:?}");

    store::set(kv, "good", &key, value.as_bytes())
        .await
        .map_err(|e| failed("store::set", &e))?
        .map_err(|e| failed("store::set", &e))?;
    let got = store::get(kv, "good", &key)
        .await
        .map_err(|e| failed("store::get", &e))?;
    if got != Ok(Some(Bytes::from(value.clone()))) {
        return Err(failed("store::get", &got));
    }
    let counted = atomics::increment(kv, "good", "count", 1)
        .await
        .map_err(|e| failed("atomics::increment", &e))?;
    if counted != Ok(round + 1) {
        return Err(failed("atomics::increment", &counted));
    }
    let many = batch::get_many(kv, "good", std::slice::from_ref(&key))
        .await
        .map_err(|e| failed("batch::get_many", &e))?;
    if many != Ok(vec![Some((key.clone(), Bytes::from(value.clone())))]) {
        return Err(failed("batch::get_many", &many));
    }
    let bucket = wasi::store::open(kv, "good")
        .await
        .map_err(|e| failed("wasi open", &e))?
        .map_err(|e| failed("wasi open", &e))?;
    let got = wasi::store::Bucket::get(kv, bucket.borrow(), &key)
        .await
        .map_err(|e| failed("wasi bucket.get", &e))?;
    if got != Ok(Some(Bytes::from(value))) {
        return Err(failed("wasi bucket.get", &got));
    }
    Ok(6)
}

/// The well-behaved component, calling round after round in a task of its own until stopped.
/// Any failure ends it with the failure.
struct WellBehaved {
    calls: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Result<(u64, Duration), String>>,
}

impl WellBehaved {
    fn start(kv: Client) -> Self {
        let calls = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn({
            let (calls, stop) = (Arc::clone(&calls), Arc::clone(&stop));
            async move {
                let mut round = 0;
                let mut slowest = Duration::ZERO;
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    calls.fetch_add(good_round(&kv, round).await?, Ordering::Relaxed);
                    slowest = slowest.max(started.elapsed());
                    round += 1;
                }
                Ok((round, slowest))
            }
        });
        Self { calls, stop, task }
    }

    /// The calls that have succeeded so far.
    fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Waits until `calls` calls have succeeded; fails at once if one failed.
    async fn reach(&mut self, calls: u64, child: &ChildProvider) {
        let reached =
            eventually(|| async { self.calls() >= calls || self.task.is_finished() }).await;
        if self.task.is_finished() {
            let failure = match (&mut self.task).await {
                Ok(Err(failure)) => failure,
                ended => format!("ended: {ended:?}"),
            };
            panic!(
                "a well-behaved call failed: {failure}; log:\n{}",
                child.logs()
            );
        }
        assert!(
            reached,
            "only {} well-behaved calls, {calls} expected",
            self.calls()
        );
    }

    /// Stops the client; returns its rounds and its slowest round.
    async fn stop(self, child: &ChildProvider) -> (u64, Duration) {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap().unwrap_or_else(|failure| {
            panic!(
                "a well-behaved call failed: {failure}; log:\n{}",
                child.logs()
            )
        })
    }
}

/// Whether the child process is still running.
async fn running(child: &mut ChildProvider) -> bool {
    child.wait(Duration::from_millis(10)).await.is_err()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_callers_leave_the_provider_healthy_bounded_and_serving() {
    let started = Instant::now();
    let nats = NatsServer::start().unwrap();
    let host = TestHost::new(&nats.url(), PROVIDER).await.unwrap();
    host.with_initial_link(TestLink::new(
        "comp",
        PROVIDER,
        "default",
        ("wrpc", "keyvalue"),
        &["store", "atomics", "batch"],
    ));
    let mut child = host
        .spawn(env!("CARGO_BIN_EXE_keyvalue-provider").as_ref())
        .await
        .unwrap();
    let pid = child.id().unwrap();
    let kv = host
        .component("comp", "default")
        .unwrap()
        .with_timeout(GOOD_CALL_DEADLINE);
    assert!(
        eventually(|| async { matches!(store::exists(&kv, "good", "k").await, Ok(Ok(_))) }).await,
        "the provider never served; log:\n{}",
        child.logs()
    );
    let functions = served_functions(&format!("{}.{PROVIDER}", host.lattice())).await;
    // `wrpc:keyvalue`: store 5, atomics 1, batch 3; `wasi:keyvalue`: store 6 (`open` and five
    // bucket methods), atomics 1, batch 3. A change here needs `real_fields` to follow.
    assert_eq!(
        functions.len(),
        19,
        "{:#?}",
        functions.iter().map(|f| &f.name).collect::<Vec<_>>()
    );

    // Warm up: the well-behaved client runs a while before the baseline is taken.
    let mut good = WellBehaved::start(kv);
    good.reach(300, &child).await;
    let baseline = resident_kib(pid).unwrap();
    let stop_sampling = Arc::new(AtomicBool::new(false));
    let sampler = sample_rss(pid, Arc::clone(&stop_sampling));

    let flood_started = Instant::now();
    let calls_before = good.calls();
    let hostile = Hostile::new(async_nats::connect(nats.url()).await.unwrap());
    random_bytes(&hostile, &functions).await;
    oversized_claims(&hostile, &functions).await;
    truncated_params(&hostile, &functions).await;
    never_ending(&hostile, &functions).await;
    garbage_on_server_subjects(&hostile, &functions).await;
    hostile.nats.flush().await.unwrap();
    let calls_during = good.calls() - calls_before;
    let flood = flood_started.elapsed();
    let left_open = hostile.end_all().await;

    // The provider answers health checks, and the well-behaved client still gets through.
    assert_eq!(host.health().await.unwrap(), Health::healthy());
    let more = good.calls() + 60;
    good.reach(more, &child).await;
    let calls = good.calls();
    let (rounds, slowest) = good.stop(&child).await;
    stop_sampling.store(true, Ordering::Relaxed);
    let peak = sampler.await.unwrap();
    let end = resident_kib(pid).unwrap();

    let tally = &hostile.tally;
    eprintln!(
        "hostile: {} functions; {} invocations ({} accepted, {} refused), {} more messages, {} MiB \
         sent, {left_open} calls left open until the end; flood took {flood:?}",
        functions.len(),
        tally.invocations.load(Ordering::Relaxed),
        tally.accepted.load(Ordering::Relaxed),
        tally.refused.load(Ordering::Relaxed),
        tally.messages.load(Ordering::Relaxed),
        tally.bytes.load(Ordering::Relaxed) >> 20,
    );
    eprintln!(
        "well-behaved: {calls_during} calls succeeded during the flood, {calls} in all \
         ({rounds} rounds), the slowest round took {slowest:?}"
    );
    eprintln!(
        "provider VmRSS: baseline {baseline} KiB, peak {peak} KiB (+{} KiB), after {end} KiB; \
         bound baseline + {RSS_MARGIN_KIB} KiB; {} MiB sent that must be dropped",
        peak.saturating_sub(baseline),
        (functions.len() * (DISCARDED_PER_FUNCTION + TRAILING_PER_FUNCTION)) >> 20
    );
    let logs = child.logs();
    let warnings = logs.lines().filter(|line| line.contains("WARN")).count();
    eprintln!(
        "provider log: {} lines, {warnings} warnings",
        logs.lines().count()
    );
    // Callers cannot flood the log: each kind of bad call is warned about at most once a
    // second (with a count), whatever their number.
    let bound = 8 * (started.elapsed().as_secs() as usize + 1);
    assert!(
        warnings <= bound,
        "{warnings} warnings for the hostile calls (at most {bound}):\n{logs}"
    );

    assert!(
        calls_during >= 100,
        "only {calls_during} well-behaved calls went through during the flood"
    );
    assert!(
        peak <= baseline + RSS_MARGIN_KIB,
        "the provider's resident memory grew from {baseline} KiB to {peak} KiB"
    );
    assert!(
        running(&mut child).await,
        "the provider exited; log:\n{}",
        child.logs()
    );
    assert!(!logs.contains("panicked"), "the provider panicked:\n{logs}");

    assert_eq!(host.shutdown().await.unwrap(), "shutting down");
    let status = child.wait(Duration::from_secs(20)).await.unwrap();
    assert!(status.success(), "{status}; log:\n{}", child.logs());
    eprintln!("took {:?}", started.elapsed());
}
