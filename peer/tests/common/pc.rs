//! Helpers for tests of the tokio driver: two `PeerConnection`s in one process.

#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

use weft_peer::{DataChannel, PeerConnection, PeerEvent};

/// A hang guard, not a measurement.
pub async fn within<T>(secs: u64, what: &str, f: impl Future<Output = T>) -> T {
    match tokio::time::timeout(Duration::from_secs(secs), f).await {
        Ok(t) => t,
        Err(_) => panic!("timed out: {what}"),
    }
}

/// Non-trickle offer/answer: `a` offers; each side waits for gathering to complete and
/// signals its whole description, candidates included.
pub async fn negotiate(a: &PeerConnection, b: &PeerConnection) {
    let offer = a.create_offer().await.unwrap();
    a.set_local_description(offer).await.unwrap();
    within(5, "offerer gathering", a.gathering_complete())
        .await
        .unwrap();
    let offer = a.local_description().await.unwrap().unwrap();
    assert!(offer.sdp.contains("a=candidate:"), "{}", offer.sdp);
    assert!(offer.sdp.contains("a=end-of-candidates"), "{}", offer.sdp);
    b.set_remote_description(offer).await.unwrap();
    let answer = b.create_answer().await.unwrap();
    b.set_local_description(answer).await.unwrap();
    within(5, "answerer gathering", b.gathering_complete())
        .await
        .unwrap();
    let answer = b.local_description().await.unwrap().unwrap();
    a.set_remote_description(answer).await.unwrap();
}

/// The next `datachannel` event of `pc` (other events are skipped).
pub async fn remote_channel(pc: &PeerConnection) -> DataChannel {
    within(10, "datachannel event", async {
        loop {
            match pc.next_event().await {
                Some(PeerEvent::DataChannel(dc)) => return dc,
                Some(_) => {}
                None => panic!("connection ended"),
            }
        }
    })
    .await
}
