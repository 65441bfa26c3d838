//! What servers sharing a registry hear of each other's changes.

use std::time::Duration;

use feather_store::{Change, Heard, Registry, Visibility};

use crate::publish;

/// Every committed change to a model is heard, once, in order, as this registry's own; a change that was refused (and
/// rolled back) or that changed nothing is not. An engine that no other server can share (one
/// server per data folder) has nothing to tell.
pub async fn a_watcher_hears_each_committed_change_and_nothing_else(r: &dyn Registry) {
    let Some(mut heard) = r.watch().await.unwrap() else {
        return;
    };
    let changed = || Heard::Own(Change::changed("ana", "iris"));
    publish(r, "ana", "iris", "d1", None).await;
    publish(r, "ana", "iris", "d2", None).await;
    r.set_visibility("ana", "ana", "iris", Visibility::Private)
        .await
        .unwrap();
    // Already private: no change, nothing to hear.
    r.set_visibility("ana", "ana", "iris", Visibility::Private)
        .await
        .unwrap();
    // Refused: version 9 does not exist, so the alias is not written.
    assert!(r.set_alias("ana", "ana", "iris", "prod", 9).await.is_err());
    r.set_alias("ana", "ana", "iris", "prod", 1).await.unwrap();
    r.delete_version("ana", "ana", "iris", 1).await.unwrap();
    r.delete_model("ana", "ana", "iris").await.unwrap();

    let mut got = Vec::new();
    while got.len() < 6 {
        let next = tokio::time::timeout(Duration::from_secs(5), heard.recv())
            .await
            .unwrap_or_else(|_| panic!("only heard {got:?}"));
        got.push(next.expect("the watch goes on"));
    }
    let deleted = Heard::Own(Change::VersionDeleted {
        owner: "ana".into(),
        name: "iris".into(),
        version: 1,
    });
    let gone = Heard::Own(Change::ModelDeleted {
        owner: "ana".into(),
        name: "iris".into(),
    });
    let published = |version| {
        Heard::Own(Change::Published {
            owner: "ana".into(),
            name: "iris".into(),
            version,
        })
    };
    assert_eq!(
        got,
        vec![
            published(1),
            published(2),
            changed(),
            changed(),
            deleted,
            gone
        ]
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(heard.try_recv().is_err(), "heard more than was changed");
}
