//! The test cluster itself: its nodes route messages to each other, hold replicated JetStream
//! streams, and come back from a kill with their store.

use async_nats::jetstream::{self, stream};
use futures::StreamExt as _;
use provider_testing::{NatsCluster, eventually};

/// Creates the stream `name` (subjects `<name>.>`) with `replicas`, stores `payload` in it
/// (acknowledged), and returns the node that leads it.
async fn stream_holding(
    js: &jetstream::Context,
    cluster: &NatsCluster,
    name: &str,
    replicas: usize,
    payload: &'static str,
) -> usize {
    let mut created = js
        .create_stream(stream::Config {
            name: name.to_owned(),
            subjects: vec![format!("{name}.>")],
            num_replicas: replicas,
            ..Default::default()
        })
        .await
        .expect("a healthy cluster takes a stream with up to as many replicas as it has nodes");
    js.publish(format!("{name}.a"), payload.into())
        .await
        .unwrap()
        .await
        .unwrap();
    let info = created.info().await.unwrap();
    let leader = info.cluster.clone().unwrap().leader.unwrap();
    cluster
        .index_of(&leader)
        .expect("the leader is one of the nodes")
}

/// Whether `stream` answers, with `payload` as its first message.
async fn first_message_is(js: &jetstream::Context, stream: &str, payload: &str) -> bool {
    match js.get_stream(stream).await {
        Ok(stream) => matches!(stream.get_raw_message(1).await, Ok(m) if m.payload == payload),
        Err(_) => false,
    }
}

#[tokio::test]
async fn nodes_route_to_each_other_and_a_replicated_stream_outlives_a_killed_node() {
    let mut cluster = NatsCluster::start(3).unwrap();
    let on_first = async_nats::connect(cluster.url(0)).await.unwrap();
    let on_last = async_nats::connect(cluster.url(2)).await.unwrap();
    let mut subscriber = on_last.subscribe("routed").await.unwrap();
    on_last.flush().await.unwrap();
    // A subscription reaches the other nodes by route: publish until it has.
    let heard = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        loop {
            on_first.publish("routed", "hello".into()).await.unwrap();
            tokio::select! {
                message = subscriber.next() => break message.unwrap().payload,
                () = tokio::time::sleep(std::time::Duration::from_millis(50)) => {}
            }
        }
    })
    .await
    .expect("a message published on node 0 never reached a subscriber on node 2");
    assert_eq!(heard, "hello");

    let js = jetstream::new(on_last.clone());
    let leader = stream_holding(&js, &cluster, "R3", 3, "kept").await;
    let survivor = async_nats::connect(cluster.url((leader + 1) % 3))
        .await
        .unwrap();

    cluster.kill(leader);
    // The stream answers again once the survivors have elected a new leader for it.
    let survivor = jetstream::new(survivor);
    assert!(
        eventually(|| first_message_is(&survivor, "R3", "kept")).await,
        "the message did not outlive its leader's node"
    );

    cluster.restart(leader).unwrap();
    assert!(cluster.node(leader).healthy());
    // A restarted node keeps its JetStream store: a stream with one replica lives on one node
    // only, so nothing but that node's own store can give its message back.
    let js = jetstream::new(async_nats::connect(cluster.url(leader)).await.unwrap());
    let home = stream_holding(&js, &cluster, "R1", 1, "stored").await;
    let elsewhere = jetstream::new(
        async_nats::connect(cluster.url((home + 1) % 3))
            .await
            .unwrap(),
    );
    cluster.kill(home);
    cluster.restart(home).unwrap();
    assert!(
        eventually(|| first_message_is(&elsewhere, "R1", "stored")).await,
        "the restarted node lost its store"
    );
}
