//! What a change to a model means for this server, whether it made the change or heard of it
//! from another server sharing the registry: what is remembered of the model goes, and a
//! deleted version's engines stop here too.

use std::sync::Arc;

use feather_store::{Change, Heard};

use crate::Service;
use crate::exec::cache::Target;

/// Applies one change to what this server holds in memory: a server applies its own changes
/// at once (and ignores them when the registry tells it of them again). Unpacked bundles of deleted
/// versions go when no version uses them any more.
pub async fn apply(s: &Service, change: &Change) {
    let (owner, name) = change.model();
    let held = s.cache.versions(owner, name);
    s.cache.forget(owner, name);
    stop(s, change, &held).await;
}

/// Applies a change another server made (or this one, heard back): a new version is prepared
/// here as publishing prepares it where it was published, so that every replica answers it.
async fn apply_heard(s: &Service, change: &Change) {
    apply(s, change).await;
    if let Change::Published {
        owner,
        name,
        version,
    } = change
    {
        crate::exec::prepare_in_background(s, owner.clone(), name.clone(), *version);
    }
}

/// Stops what a deleted version (or model) ran here, and drops its metrics; `held`: its versions
/// that were in memory.
async fn stop(s: &Service, change: &Change, held: &[Arc<Target>]) {
    let (owner, name) = change.model();
    let model = format!("{owner}/{name}");
    let gone: Vec<&Target> = match change {
        Change::Changed { .. } => return,
        Change::Published { .. } => return,
        Change::VersionDeleted { version, .. } => {
            s.metrics.forget(&model, Some(*version));
            s.runner
                .stop(&format!("{owner}/{name}@{version}"), true)
                .await;
            held.iter()
                .filter(|t| t.detail.version.version == *version)
                .map(|t| &**t)
                .collect()
        }
        Change::ModelDeleted { .. } => {
            s.metrics.forget(&model, None);
            s.runner.stop(&format!("{owner}/{name}@"), false).await;
            held.iter().map(|t| &**t).collect()
        }
    };
    for t in gone {
        let digest = &t.detail.version.digest;
        // Another version (of any model) may share the bundle; then it stays unpacked.
        if let Ok(false) = s.store.registry.digest_in_use(digest).await {
            s.runner.forget_bundle(digest).await;
        }
    }
}

/// Follows the changes other servers sharing the registry make, for as long as the server
/// lives; nothing to follow when nobody can share it. Returns once listening, so that no
/// change committed after it is missed.
pub async fn follow(s: &Service) -> feather_store::Result<()> {
    let Some(mut heard) = s.store.registry.watch().await? else {
        return Ok(());
    };
    let s = s.clone();
    tokio::spawn(async move {
        while let Some(h) = heard.recv().await {
            match h {
                Heard::Change(change) => apply_heard(&s, &change).await,
                Heard::Own(_) => {}
                Heard::Lost => catch_up(&s).await,
            }
        }
    });
    Ok(())
}

/// After changes may have been missed: everything remembered goes, and the engines of versions
/// that no longer exist stop.
async fn catch_up(s: &Service) {
    tracing::warn!("changes other servers made may have been missed; checking the versions held");
    let held = s.cache.all();
    s.cache.forget_all();
    for t in held {
        let d = &t.detail;
        let number = d.version.version.to_string();
        if let Err(feather_store::StoreError::NotFound(_)) =
            s.store.registry.version(&d.owner, &d.name, &number).await
        {
            let change = Change::VersionDeleted {
                owner: d.owner.clone(),
                name: d.name.clone(),
                version: d.version.version,
            };
            stop(s, &change, std::slice::from_ref(&t)).await;
        }
    }
}
