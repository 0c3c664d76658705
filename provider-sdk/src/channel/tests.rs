//! Unit tests of the channel layer: reassembly, limits, and the life of sub-channels.

use proptest::prelude::*;

use bytes::BytesMut;

use super::inbox::*;
use super::*;
use crate::error::Error;
use crate::wire::{Decode, encode};

type Value = (String, Vec<u64>, Option<(bool, Bytes)>, char);

fn sample() -> Value {
    (
        "héllo".repeat(20),
        (0..50).map(|i| i * 1_000_003).collect(),
        Some((true, Bytes::from_static(&[7; 40]))),
        '😀',
    )
}

fn inbox(limits: Limits) -> Arc<Inbox> {
    Arc::new(Inbox::new("test.f", limits, Budget::new(usize::MAX), None))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

/// Delivers `bytes` in pieces cut at `cuts`, then the end of the channel.
fn deliver_pieces(inbox: &Inbox, bytes: &Bytes, cuts: &[usize]) {
    let mut start = 0;
    for &cut in cuts.iter().chain([&bytes.len()]) {
        if cut > start {
            inbox.deliver(&[], bytes.slice(start..cut));
            start = cut;
        }
    }
    inbox.deliver(&[], Bytes::new());
}

#[test]
fn a_value_split_anywhere_decodes() {
    let bytes = encode(sample()).unwrap();
    let rt = runtime();
    for cut in 0..=bytes.len() {
        let inbox = inbox(Limits::default());
        let mut reader = inbox.claim_root().unwrap();
        deliver_pieces(&inbox, &bytes, &[cut]);
        let value: Value = rt.block_on(reader.read("result")).unwrap();
        assert_eq!(value, sample(), "cut at {cut}");
        rt.block_on(reader.expect_end()).unwrap();
    }
}

proptest! {
    #[test]
    fn a_value_in_many_pieces_decodes(mut cuts in prop::collection::vec(0usize..2000, 0..40)) {
        let bytes = encode(sample()).unwrap();
        cuts.iter_mut().for_each(|cut| *cut %= bytes.len());
        cuts.sort_unstable();
        let inbox = inbox(Limits::default());
        let mut reader = inbox.claim_root().unwrap();
        deliver_pieces(&inbox, &bytes, &cuts);
        let value: Value = runtime().block_on(reader.read("result")).unwrap();
        prop_assert_eq!(value, sample());
    }
}

#[test]
fn a_long_list_in_small_pieces_is_not_decoded_once_per_piece() {
    let items: Vec<String> = (0..2000).map(|i| format!("{i:04}")).collect();
    let bytes = encode(items.clone()).unwrap();
    let pieces = bytes.len().div_ceil(64);
    let inbox = inbox(Limits::default());
    let mut reader = inbox.claim_root().unwrap();
    let mut attempts = 0;
    runtime().block_on(async {
        let writer = Arc::clone(&inbox);
        tokio::spawn(async move {
            for piece in bytes.chunks(64) {
                writer.deliver(&[], Bytes::copy_from_slice(piece));
                tokio::task::yield_now().await;
            }
            writer.deliver(&[], Bytes::new());
        });
        let value = reader
            .read_with("result", 1, |r| {
                attempts += 1;
                Vec::<String>::decode(r)
            })
            .await
            .unwrap();
        assert_eq!(value, items);
    });
    // Each failed attempt says the rest of the list needs a byte per element at least, so the
    // reader waits for that much before trying again.
    assert!(
        attempts * 4 < pieces,
        "{attempts} decode attempts for {pieces} pieces"
    );
}

#[test]
fn values_back_to_back_in_one_message() {
    let mut bytes = BytesMut::new();
    bytes.extend_from_slice(&encode(1u32).unwrap());
    bytes.extend_from_slice(&encode("two").unwrap());
    let inbox = inbox(Limits::default());
    let mut reader = inbox.claim_root().unwrap();
    inbox.deliver(&[], bytes.freeze());
    let rt = runtime();
    assert_eq!(rt.block_on(reader.read::<u32>("result")).unwrap(), 1);
    assert_eq!(rt.block_on(reader.read::<String>("result")).unwrap(), "two");
}

#[test]
fn end_before_the_value_is_incomplete() {
    let bytes = encode(sample()).unwrap();
    let inbox = inbox(Limits::default());
    let mut reader = inbox.claim_root().unwrap();
    inbox.deliver(&[], bytes.slice(..10));
    inbox.deliver(&[], Bytes::new());
    let err = runtime()
        .block_on(reader.read::<Value>("result"))
        .unwrap_err();
    assert!(
        matches!(&err, Error::Incomplete { what: "result", subject, received: 10 } if subject == "test.f"),
        "{err}"
    );
}

#[test]
fn a_claim_beyond_the_value_limit_fails_before_buffering() {
    let inbox = inbox(Limits::default().with_max_value_bytes(1000));
    let mut reader = inbox.claim_root().unwrap();
    // A 2000-byte string: its length prefix alone is enough to refuse it.
    inbox.deliver(&[], Bytes::from_static(&[0xd0, 0x0f, b'x']));
    let err = runtime()
        .block_on(reader.read::<String>("params"))
        .unwrap_err();
    let Error::Malformed { source, .. } = &err else {
        panic!("{err}")
    };
    assert!(
        matches!(**source, Error::TooLarge { limit: 1000, .. }),
        "{err}"
    );
}

#[test]
fn buffering_beyond_the_limit_fails_the_call() {
    let inbox = inbox(Limits::default().with_max_buffered_bytes(100));
    let mut reader = inbox.claim_root().unwrap();
    // A 200-byte string, arriving in two 60-byte pieces: 120 bytes waiting is too many.
    let mut first = vec![0xc8, 0x01];
    first.resize(60, b'x');
    inbox.deliver(&[], Bytes::from(first));
    inbox.deliver(&[], Bytes::from(vec![b'x'; 60]));
    let err = runtime()
        .block_on(reader.read::<String>("params"))
        .unwrap_err();
    // What arrived within the limit is read; then the channel reports why it ended.
    assert!(matches!(err, Error::BufferFull { limit: 100, .. }), "{err}");
}

#[test]
fn sub_channels_are_bounded() {
    let inbox = inbox(Limits::default().with_max_channels(2));
    inbox.deliver(&[0], Bytes::from_static(b"a"));
    inbox.deliver(&[1], Bytes::from_static(b"b"));
    inbox.deliver(&[2], Bytes::from_static(b"c"));
    let err = inbox.claim(vec![0].into()).unwrap_err();
    assert!(matches!(err, Error::Protocol { .. }), "{err}");
}

#[test]
fn data_for_a_sub_channel_waits_for_its_claim() {
    let inbox = inbox(Limits::default());
    inbox.deliver(&[0, 3], encode(42u32).unwrap());
    inbox.deliver(&[0, 3], Bytes::new());
    let mut reader = inbox.claim(vec![0, 3].into()).unwrap();
    assert_eq!(reader.subject(), "test.f (sub-channel 0.3)");
    let err = inbox.claim(vec![0, 3].into()).unwrap_err();
    assert!(matches!(err, Error::Protocol { .. }), "{err}");
    assert_eq!(
        runtime().block_on(reader.read::<u32>("future")).unwrap(),
        42
    );
}

#[test]
fn a_released_channel_continues_where_it_stopped() {
    let inbox = inbox(Limits::default());
    let mut bytes = BytesMut::new();
    bytes.extend_from_slice(&encode(1u8).unwrap());
    bytes.extend_from_slice(&encode(2u8).unwrap());
    inbox.deliver(&[5], bytes.freeze());
    let rt = runtime();
    let mut reader = inbox.claim(vec![5].into()).unwrap();
    assert_eq!(rt.block_on(reader.read::<u8>("future")).unwrap(), 1);
    // A value decoded from this channel continues on it (`future<stream<T>>`).
    let next = PendingChannel::new(Arc::clone(&inbox), vec![5]);
    next.arming().arm().unwrap();
    drop(reader);
    let mut reader = next.claim().unwrap();
    assert_eq!(rt.block_on(reader.read::<u8>("stream")).unwrap(), 2);
}

#[test]
fn an_unwanted_channel_is_abandoned_and_freed() {
    let inbox = inbox(Limits::default());
    inbox.deliver(&[3], Bytes::from_static(&[1, 2, 3]));
    assert_eq!(inbox.buffered(), 3);
    let pending = PendingChannel::new(Arc::clone(&inbox), vec![3]);
    pending.arming().arm().unwrap();
    // Dropped unread: what waits is freed, and what still comes is not kept.
    drop(pending);
    assert_eq!(inbox.buffered(), 0);
    inbox.deliver(&[3], Bytes::from_static(&[4, 5]));
    assert_eq!(inbox.buffered(), 0);
    inbox.deliver(&[3], Bytes::new());
    assert!(
        inbox.claim(vec![3].into()).is_ok(),
        "an ended, abandoned channel is forgotten"
    );
}

#[test]
fn an_unarmed_pending_channel_changes_nothing() {
    // A decode attempt that fails drops its pending channels without arming them.
    let inbox = inbox(Limits::default());
    inbox.deliver(&[0], Bytes::from_static(&[9]));
    drop(PendingChannel::new(Arc::clone(&inbox), vec![0]));
    let mut reader = inbox.claim(vec![0].into()).unwrap();
    assert_eq!(runtime().block_on(reader.read::<u8>("stream")).unwrap(), 9);
}

#[test]
fn ended_channels_free_their_slots() {
    let inbox = inbox(Limits::default().with_max_channels(2));
    let rt = runtime();
    for i in 0..10 {
        inbox.deliver(&[i], encode(i as u32).unwrap());
        inbox.deliver(&[i], Bytes::new());
        let mut reader = inbox.claim(vec![i].into()).unwrap();
        assert_eq!(rt.block_on(reader.read::<u32>("future")).unwrap(), i as u32);
        rt.block_on(reader.expect_end()).unwrap();
    }
}

#[test]
fn the_transport_budget_is_shared_by_its_calls() {
    let budget = Budget::new(100);
    let one = Arc::new(Inbox::new(
        "one",
        Limits::default(),
        Arc::clone(&budget),
        None,
    ));
    let two = Arc::new(Inbox::new(
        "two",
        Limits::default(),
        Arc::clone(&budget),
        None,
    ));
    let mut reader = two.claim_root().unwrap();
    one.deliver(&[], Bytes::from(vec![0; 60]));
    two.deliver(&[], Bytes::from(vec![0; 60]));
    let err = runtime()
        .block_on(reader.read::<String>("result"))
        .unwrap_err();
    assert!(matches!(err, Error::BufferFull { limit: 100, .. }), "{err}");
    // A call's share comes back when it is done.
    drop(one);
    assert_eq!(budget.used(), 0);
}

/// A peer that starts a value and never finishes it makes this side hold what came: out of the
/// channel and into the reader's buffer, but still memory the peer chose. It counts against the
/// transport's budget until the value is decoded or the reader goes; otherwise every call could
/// hold up to `max_value_bytes` whatever `max_total_buffered_bytes` says.
#[test]
fn an_incomplete_value_a_reader_holds_counts_against_the_transport_budget() {
    let budget = Budget::new(100);
    let call = |name| {
        Arc::new(Inbox::new(
            name,
            Limits::default(),
            Arc::clone(&budget),
            None,
        ))
    };
    let (one, two) = (call("one"), call("two"));
    // A 79-byte value (a 78-byte string), of which 40 bytes arrive.
    let value = encode("x".repeat(78)).unwrap();
    runtime().block_on(async {
        let mut reader = one.claim_root().unwrap();
        one.deliver(&[], value.slice(..40));
        let read = reader.read::<String>("params");
        tokio::pin!(read);
        assert!(futures::poll!(read.as_mut()).is_pending());
        assert_eq!(budget.used(), 40, "the reader holds the start of the value");

        // Another call's 70 bytes do not fit beside it.
        let mut other = two.claim_root().unwrap();
        two.deliver(&[], Bytes::from(vec![0x80; 70]));
        let err = other.read::<String>("params").await.unwrap_err();
        assert!(matches!(err, Error::BufferFull { limit: 100, .. }), "{err}");
        assert_eq!(budget.used(), 40);

        // The rest arrives: decoded, the value is the handler's, no longer the transport's.
        one.deliver(&[], value.slice(40..));
        assert_eq!(read.await.unwrap(), "x".repeat(78));
        assert_eq!(budget.used(), 0);

        // A reader that goes with part of a value gives its share back.
        let three = call("three");
        let mut reader = three.claim_root().unwrap();
        three.deliver(&[], value.slice(..40));
        assert!(futures::poll!(Box::pin(reader.read::<String>("params"))).is_pending());
        assert_eq!(budget.used(), 40);
        drop(reader);
        assert_eq!(budget.used(), 0);
    });
}

#[test]
fn a_silent_sub_channel_times_out() {
    let idle = std::time::Duration::from_millis(50);
    let inbox = inbox(Limits::default().with_idle_timeout(Some(idle)));
    let mut reader = inbox.claim(vec![1].into()).unwrap();
    let err = runtime().block_on(reader.read::<u8>("stream")).unwrap_err();
    let Error::Timeout { subject, after } = &err else {
        panic!("{err}")
    };
    assert_eq!((subject.as_str(), *after), ("test.f (sub-channel 1)", idle));
}

#[test]
fn an_in_process_writer_waits_for_its_reader() {
    let peer = inbox(Limits::default().with_max_buffered_bytes(1000));
    let mut reader = peer.claim_root().unwrap();
    let out = Outgoing::new(InboxSink::root(Arc::clone(&peer), 300), Tasks::default());
    let rt = runtime();
    rt.block_on(async {
        let writer = tokio::spawn(async move {
            for _ in 0..20 {
                out.send(Bytes::from(vec![7; 400])).await.unwrap();
            }
            out.close().await.unwrap();
        });
        let mut received = 0;
        while let Some(message) = reader.next_message().await.unwrap() {
            received += message.len();
            tokio::task::yield_now().await;
        }
        writer.await.unwrap();
        assert_eq!(received, 20 * 400);
    });
}

#[test]
fn outgoing_splits_into_max_payload_pieces() {
    let peer = inbox(Limits::default());
    let mut reader = peer.claim_root().unwrap();
    let out = Outgoing::new(InboxSink::root(Arc::clone(&peer), 7), Tasks::default());
    let bytes = encode(sample()).unwrap();
    let rt = runtime();
    rt.block_on(async {
        out.send(bytes.clone()).await.unwrap();
        out.close().await.unwrap();
    });
    let mut pieces = Vec::new();
    while let Some(piece) = rt.block_on(reader.next_message()).unwrap() {
        pieces.push(piece);
    }
    assert!(
        pieces
            .iter()
            .all(|piece| !piece.is_empty() && piece.len() <= 7)
    );
    assert_eq!(pieces.concat(), bytes.to_vec());
}

#[test]
fn a_sealed_inbox_refuses_pending_values_at_once() {
    // Params said to be whole cannot hold a pending stream: nothing could ever feed it.
    let sealed = Arc::new(Inbox::sealed(
        "test.f",
        Limits::default(),
        Budget::new(usize::MAX),
    ));
    let pending = PendingChannel::new(Arc::clone(&sealed), vec![0]);
    let error = pending.arming().arm().unwrap_err();
    assert!(
        matches!(error, Error::Protocol { detail, .. } if detail.contains("said to be whole")),
        "{error:?}"
    );
    // The root channel reads as usual.
    let mut reader = sealed.claim_root().unwrap();
    sealed.deliver(&[], Bytes::from_static(b"\x02hi"));
    sealed.deliver(&[], Bytes::new());
    let text: String = runtime().block_on(reader.read("params")).unwrap();
    assert_eq!(text, "hi");
}
