//! Claims on blobs: a collector removes a blob only when nothing names it and no live write
//! claims it.

use std::sync::atomic::{AtomicUsize, Ordering};

use feather_store::Registry;
use feather_store::accounts::{rfc3339, unix_now};

use crate::publish;

/// Drops `digest` with a removal that counts its runs; whether the registry said it went.
async fn drop(r: &dyn Registry, digest: &str, removed: &AtomicUsize) -> bool {
    let since = rfc3339(unix_now() - 600);
    r.drop_blob(
        digest,
        &since,
        Box::pin(async {
            removed.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }),
    )
    .await
    .unwrap()
}

pub async fn a_blob_goes_only_when_no_write_claims_it_and_nothing_names_it(r: &dyn Registry) {
    let removed = AtomicUsize::new(0);
    let now = feather_store::now();
    // Two writes claim the bytes; while either holds its claim the blob stays.
    r.claim_blob("sha256:b", &now).await.unwrap();
    r.claim_blob("sha256:b", &now).await.unwrap();
    assert!(!drop(r, "sha256:b", &removed).await);
    r.release_blob("sha256:b").await.unwrap();
    assert!(
        !drop(r, "sha256:b", &removed).await,
        "one write still claims it"
    );
    r.release_blob("sha256:b").await.unwrap();
    assert_eq!(removed.load(Ordering::SeqCst), 0);
    assert!(drop(r, "sha256:b", &removed).await);
    assert_eq!(removed.load(Ordering::SeqCst), 1);
    // Once gone, claiming again starts afresh; letting go more often than claiming counts nothing.
    r.release_blob("sha256:b").await.unwrap();
    r.claim_blob("sha256:b", &now).await.unwrap();
    assert!(!drop(r, "sha256:b", &removed).await);

    // A claim older than a write may take is of a write that died.
    let old = rfc3339(unix_now() - 3600);
    r.claim_blob("sha256:dead", &old).await.unwrap();
    assert!(drop(r, "sha256:dead", &removed).await);

    // Named by a version, a blob stays whatever its claims; unnamed and never claimed, it goes.
    publish(r, "ana", "iris", "sha256:kept", None).await;
    assert!(!drop(r, "sha256:kept", &removed).await);
    assert!(drop(r, "sha256:never-claimed", &removed).await);
    assert_eq!(removed.load(Ordering::SeqCst), 3);
}
