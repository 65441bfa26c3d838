use feather_store::accounts::unix_now;
use feather_store::{Keep, Registry, StoreError, StoredFile, new_id, now};

use crate::err;

fn file(digest: &str, size: i64) -> StoredFile {
    StoredFile {
        id: new_id("f_"),
        digest: digest.into(),
        name: Some("a.png".into()),
        media_type: "image/png".into(),
        size,
        expires_at: None,
    }
}

pub async fn files_expire_unless_a_run_takes_them(r: &dyn Registry) {
    let alice = Some("user:alice");
    let kept = file("sha256:kept", 10);
    r.insert_file(&kept, Keep::Until(unix_now() + 3600), alice, &now())
        .await
        .unwrap();
    let other = file("sha256:other", 5);
    r.insert_file(&other, Keep::Until(unix_now() + 3600), alice, &now())
        .await
        .unwrap();
    let stale = file("sha256:stale", 7);
    r.insert_file(&stale, Keep::Until(unix_now() - 1), alice, &now())
        .await
        .unwrap();
    assert_eq!(
        r.stored_bytes("user:alice").await.unwrap(),
        15,
        "an expired file counts for nothing"
    );
    assert_eq!(r.stored_bytes("user:bob").await.unwrap(), 0);

    let got = r.file(&kept.id).await.unwrap();
    assert_eq!(
        (got.digest.as_str(), got.size, got.media_type.as_str()),
        ("sha256:kept", 10, "image/png")
    );
    assert!(got.expires_at.is_some());
    assert!(matches!(
        err(r.file(&stale.id).await),
        StoreError::NotFound(_)
    ));
    assert!(r.digest_in_use("sha256:kept").await.unwrap());

    let run = crate::runs::started(r).await;
    r.attach_file(&kept.id, &run.id).await.unwrap();
    assert_eq!(
        r.file(&kept.id).await.unwrap().expires_at,
        None,
        "kept as long as its run"
    );
    assert_eq!(
        r.stored_bytes("user:alice").await.unwrap(),
        15,
        "still its uploader's, until its run goes"
    );

    r.forget_file(&other.id).await.unwrap();
    assert!(matches!(
        err(r.file(&other.id).await),
        StoreError::NotFound(_)
    ));
    let mut gone = r.delete_expired_files().await.unwrap();
    gone.sort();
    assert_eq!(
        gone,
        ["sha256:other", "sha256:stale"],
        "a forgotten file goes as an expired one"
    );
    assert!(r.delete_expired_files().await.unwrap().is_empty());
}

pub async fn old_runs_go_with_their_files(r: &dyn Registry) {
    let run = crate::runs::started(r).await;
    let made = file("sha256:made", 3);
    r.insert_file(&made, Keep::Run(&run.id), None, &now())
        .await
        .unwrap();
    let before = "2000-01-01T00:00:00Z";
    assert_eq!(r.delete_old_runs(before).await.unwrap(), (0, Vec::new()));
    let (runs, mut digests) = r.delete_old_runs("9999-01-01T00:00:00Z").await.unwrap();
    digests.sort();
    assert_eq!(
        (runs, digests),
        (1, vec!["sha256:made".to_owned(), "sha256:s0".to_owned()])
    );
    assert!(matches!(err(r.run(&run.id).await), StoreError::NotFound(_)));
    assert!(matches!(
        err(r.file(&made.id).await),
        StoreError::NotFound(_)
    ));
}

pub async fn one_holder_at_a_time_has_a_lease_until_it_lapses(r: &dyn Registry) {
    let now = unix_now();
    assert!(r.take_lease("collector", "a", now + 60).await.unwrap());
    assert!(
        !r.take_lease("collector", "b", now + 60).await.unwrap(),
        "a holds it"
    );
    assert!(
        r.take_lease("collector", "a", now + 120).await.unwrap(),
        "its holder renews it"
    );
    assert!(
        r.take_lease("other", "b", now + 60).await.unwrap(),
        "leases are by name"
    );
    assert!(r.take_lease("brief", "a", now - 1).await.unwrap());
    assert!(
        r.take_lease("brief", "b", now + 60).await.unwrap(),
        "a lapsed one is taken over"
    );
    assert!(
        !r.take_lease("brief", "a", now + 60).await.unwrap(),
        "and is no longer a's"
    );
    // Many at once: one wins.
    let holders: Vec<String> = (0..8).map(|i| format!("h{i}")).collect();
    let won =
        futures::future::join_all(holders.iter().map(|h| r.take_lease("race", h, now + 60))).await;
    assert_eq!(won.into_iter().filter(|w| *w.as_ref().unwrap()).count(), 1);
}
