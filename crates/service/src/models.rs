//! Models and their versions: publishing, reading, deleting, aliases, visibility and grants.
//!
//! Every change says here, once, what it means beyond the registry: the versions and alias
//! answers kept in memory are forgotten, a deleted version's engines stop and its unpacked
//! bundle goes, and a new version starts preparing.

use bytes::Bytes;
use feather_spec::{Manifest, Runtime};
use feather_store::{
    Change, Grant, Model, ModelPage, ModelQuery, Published, Scope, Upload, Version, VersionDetail,
    Viewer, Visibility,
};
use futures::stream::BoxStream;

use crate::exec::{self, check_visible};
use crate::{Actor, Result, Service, ServiceError, follow};

/// What a search asks for.
#[derive(Debug, Clone, Default)]
pub struct Search {
    /// Words to find in owner, name, title or description.
    pub q: Option<String>,
    pub tag: Option<String>,
    pub owner: Option<String>,
    /// From 1 (default 1).
    pub page: Option<u32>,
    /// 1 to 100 (default 20).
    pub per_page: Option<u32>,
}

/// Finds the models the viewer may see.
pub async fn search(s: &Service, viewer: &Viewer, q: Search) -> Result<ModelPage> {
    let per_page = q.per_page.unwrap_or(20);
    if !(1..=100).contains(&per_page) || q.page == Some(0) {
        return Err(ServiceError::bad_request(
            "page starts at 1 and per_page is between 1 and 100",
        ));
    }
    let query = ModelQuery {
        q: q.q.filter(|q| !q.is_empty()),
        tag: q.tag,
        owner: q.owner,
        page: q.page.unwrap_or(1),
        per_page,
        viewer: viewer.clone(),
    };
    Ok(s.store.registry.search(&query).await?)
}

/// One model, its tags and aliases.
pub async fn model(s: &Service, viewer: &Viewer, owner: &str, name: &str) -> Result<Model> {
    check_visible(s, owner, name, viewer).await?;
    Ok(s.store.registry.model(owner, name).await?)
}

/// A model's versions, newest first.
pub async fn versions(
    s: &Service,
    viewer: &Viewer,
    owner: &str,
    name: &str,
) -> Result<Vec<Version>> {
    check_visible(s, owner, name, viewer).await?;
    Ok(s.store.registry.versions(owner, name).await?)
}

/// One version (`reference`: a number or an alias) with its manifest and provenance.
pub async fn version(
    s: &Service,
    viewer: &Viewer,
    owner: &str,
    name: &str,
    reference: &str,
) -> Result<VersionDetail> {
    check_visible(s, owner, name, viewer).await?;
    Ok(s.store.registry.version(owner, name, reference).await?)
}

/// A version's bundle as published: its record, size and bytes.
pub struct BundleDownload {
    pub detail: VersionDetail,
    pub size: u64,
    pub bytes: BoxStream<'static, feather_store::Result<Bytes>>,
}

pub async fn bundle(
    s: &Service,
    viewer: &Viewer,
    owner: &str,
    name: &str,
    reference: &str,
) -> Result<BundleDownload> {
    let detail = version(s, viewer, owner, name, reference).await?;
    let (size, bytes) = s.store.blobs.get(&detail.version.digest).await?;
    Ok(BundleDownload {
        detail,
        size,
        bytes,
    })
}

/// Refuses, before a large bundle is received, a caller who may publish nothing.
pub fn may_publish(actor: &Actor) -> Result<()> {
    actor.require(Scope::Publish)
}

/// A version to publish: its manifest and received bundle.
pub struct NewVersion<'a> {
    /// Whose model: the caller's own user; the operator must name one.
    pub owner: Option<&'a str>,
    pub manifest: &'a Manifest,
    pub upload: &'a Upload,
    /// A new model is public unless this says otherwise; an existing one keeps its own.
    pub visibility: Option<Visibility>,
    /// The number to take (a copy of a version made elsewhere); none: the next one.
    pub number: Option<i64>,
}

/// Publishes a new version of `<owner>/<manifest name>` (numbers go 1, 2, 3...) and starts
/// preparing it (bundle unpacked, environment built, one worker warm) in the background.
pub async fn publish(s: &Service, actor: &Actor, new: NewVersion<'_>) -> Result<Published> {
    may_publish(actor)?;
    let owner = match (new.owner, actor.user()) {
        (Some(o), _) => {
            actor.must_manage(o)?;
            o
        }
        (None, Some(own)) => own,
        (None, None) => return Err(ServiceError::bad_request("name the model's owner")),
    };
    let keep = match &new.manifest.runtime {
        Runtime::Onnx(rt) => Some(rt.file.as_str()),
        Runtime::Python { .. } => None,
    };
    let mut info = s.store.inspect(new.upload, keep).await?;
    let completed;
    let manifest = match &new.manifest.runtime {
        Runtime::Onnx(rt) => {
            let model = info.kept.take().ok_or_else(|| {
                invalid(
                    "/runtime/file",
                    format!("{:?} is not a file in the bundle", rt.file),
                )
            })?;
            completed = read_onnx(s, new.manifest, rt, model).await?;
            &completed
        }
        Runtime::Python { .. } => new.manifest,
    };
    let published = s
        .store
        .publish_inspected(
            owner,
            manifest,
            new.upload,
            new.visibility,
            &info,
            new.number,
        )
        .await?;
    s.cache.forget(owner, &new.manifest.name);
    exec::prepare_in_background(
        s,
        owner.to_owned(),
        new.manifest.name.clone(),
        published.version,
    );
    Ok(published)
}

/// An ONNX model's manifest as it is kept: with the signature the model itself has, and the
/// init components derived from it when the manifest gives none. A model ONNX Runtime cannot
/// load, or of a shape feather cannot serve, is refused here with the reason, not at its first
/// call.
async fn read_onnx(
    s: &Service,
    manifest: &Manifest,
    rt: &feather_spec::onnx::OnnxRuntime,
    model: Vec<u8>,
) -> Result<Manifest> {
    let init: Vec<serde_json::Value> = manifest
        .init
        .iter()
        .map(|c| serde_json::to_value(c).expect("components serialise"))
        .collect();
    let (signature, init) = match s.runner.inspect_onnx(model, rt, init).await {
        Ok(read) => read,
        Err(feather_runner::RunnerError::Model(reason)) => {
            return Err(invalid("/runtime/file", reason));
        }
        Err(e) => {
            return Err(ServiceError::new(
                crate::Code::RuntimeUnavailable,
                e.to_string(),
            ));
        }
    };
    let mut value = manifest.to_value();
    value["runtime"]["signature"] = serde_json::to_value(&signature).expect("serialises");
    value["init"] = serde_json::Value::Array(init);
    Manifest::parse(&value)
        .map_err(|p| ServiceError::from(feather_store::StoreError::InvalidManifest(p)))
}

fn invalid(path: &str, reason: String) -> ServiceError {
    ServiceError::from(feather_store::StoreError::InvalidManifest(
        feather_spec::Problems(vec![feather_spec::Problem::new(path, reason)]),
    ))
}

/// 404 for a model the caller cannot see, 403 for one they see but may not change.
async fn manageable(s: &Service, actor: &Actor, owner: &str, name: &str) -> Result<()> {
    check_visible(s, owner, name, &actor.viewer()).await?;
    actor.must_manage(owner)
}

/// Deletes one version by its number (never reused); its engines stop and its bundle goes
/// when no other version uses it.
pub async fn delete_version(
    s: &Service,
    actor: &Actor,
    owner: &str,
    name: &str,
    reference: &str,
) -> Result<()> {
    manageable(s, actor, owner, name).await?;
    let number: i64 = match reference.parse() {
        Ok(n) => n,
        // A number too large for any version names none.
        Err(_) if reference.bytes().all(|b| b.is_ascii_digit()) => {
            return Err(ServiceError::not_found(format!(
                "version {owner}/{name}@{reference} not found"
            )));
        }
        Err(_) => {
            return Err(ServiceError::bad_request(
                "delete a version by its number, not an alias",
            ));
        }
    };
    let dropped = s
        .store
        .delete_version(actor.name(), owner, name, number)
        .await?;
    let change = Change::VersionDeleted {
        owner: owner.into(),
        name: name.into(),
        version: number,
    };
    follow::apply(s, &change).await;
    forget_bundles(s, dropped).await;
    Ok(())
}

/// Deletes a model and all its versions, with their engines and unused bundles.
pub async fn delete_model(s: &Service, actor: &Actor, owner: &str, name: &str) -> Result<()> {
    manageable(s, actor, owner, name).await?;
    let dropped = s.store.delete_model(actor.name(), owner, name).await?;
    let change = Change::ModelDeleted {
        owner: owner.into(),
        name: name.into(),
    };
    follow::apply(s, &change).await;
    forget_bundles(s, dropped).await;
    Ok(())
}

async fn forget_bundles(s: &Service, digests: Vec<String>) {
    for digest in digests {
        s.runner.forget_bundle(&digest).await;
    }
}

/// Makes a model public or private; every replica sees it within the alias TTL.
pub async fn set_visibility(
    s: &Service,
    actor: &Actor,
    owner: &str,
    name: &str,
    visibility: Visibility,
) -> Result<Model> {
    manageable(s, actor, owner, name).await?;
    s.store
        .registry
        .set_visibility(actor.name(), owner, name, visibility)
        .await?;
    s.cache.forget(owner, name);
    Ok(s.store.registry.model(owner, name).await?)
}

/// The users a model is shared with.
pub async fn grants(s: &Service, actor: &Actor, owner: &str, name: &str) -> Result<Vec<Grant>> {
    manageable(s, actor, owner, name).await?;
    Ok(s.store.registry.grants(owner, name).await?)
}

/// Lets a user see and run a private model. Granting twice changes nothing.
pub async fn grant(s: &Service, actor: &Actor, owner: &str, name: &str, to: &str) -> Result<()> {
    manageable(s, actor, owner, name).await?;
    Ok(s.store
        .registry
        .grant(actor.name(), owner, name, to)
        .await?)
}

/// Takes a grant back.
pub async fn ungrant(s: &Service, actor: &Actor, owner: &str, name: &str, to: &str) -> Result<()> {
    manageable(s, actor, owner, name).await?;
    Ok(s.store
        .registry
        .ungrant(actor.name(), owner, name, to)
        .await?)
}

/// Points an alias at a version; returns the version it named before, if it existed.
pub async fn set_alias(
    s: &Service,
    actor: &Actor,
    owner: &str,
    name: &str,
    alias: &str,
    version: i64,
) -> Result<Option<i64>> {
    manageable(s, actor, owner, name).await?;
    let previous = s
        .store
        .registry
        .set_alias(actor.name(), owner, name, alias, version)
        .await?;
    s.cache.forget(owner, name);
    Ok(previous)
}

pub async fn delete_alias(
    s: &Service,
    actor: &Actor,
    owner: &str,
    name: &str,
    alias: &str,
) -> Result<()> {
    manageable(s, actor, owner, name).await?;
    s.store
        .registry
        .delete_alias(actor.name(), owner, name, alias)
        .await?;
    s.cache.forget(owner, name);
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::Arc;

    use feather_runner::{Runner, RunnerConfig};
    use feather_store::{BundleLimits, Principal, Role, Store};

    use super::*;
    use crate::Code;

    async fn service() -> (tempfile::TempDir, Service) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), &Default::default(), BundleLimits::default())
            .await
            .unwrap();
        // No uv: the environment builds publishing starts fail at once, and nothing runs.
        let mut config = RunnerConfig::new(&dir.path().join("run"), "/nonexistent/uv".as_ref());
        config.insecure_no_sandbox = true;
        let runner = Arc::new(Runner::new(config));
        (dir, Service::new(store, runner, Default::default()))
    }

    async fn upload(s: &Service) -> Upload {
        let mut tar = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(1);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, "app.py", &b"\n"[..]).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&tar.into_inner().unwrap()).unwrap();
        let bytes = Bytes::from(gz.finish().unwrap());
        let body = futures::stream::iter([Ok::<_, std::io::Error>(bytes)]);
        s.store.receive(body).await.unwrap()
    }

    fn manifest() -> Manifest {
        let json = include_str!("../../../tests/vectors/manifests/valid/minimal.json");
        Manifest::parse(&serde_json::from_str(json).unwrap()).unwrap()
    }

    fn token(user: &str, scopes: &str) -> Actor {
        Actor::Token(Principal {
            user: user.into(),
            role: Role::Developer,
            scopes: Scope::parse_list(scopes).unwrap(),
            token: 1,
            expires_at: None,
        })
    }

    fn code<T: std::fmt::Debug>(r: Result<T>) -> Code {
        r.expect_err("refused").code
    }

    #[tokio::test]
    async fn versions_are_published_for_an_owner_only_by_that_owner_or_the_operator() {
        let (_dir, s) = service().await;
        let (m, up) = (manifest(), upload(&s).await);
        let new = |owner| NewVersion {
            owner,
            manifest: &m,
            upload: &up,
            visibility: None,
            number: None,
        };
        let operator = Actor::Operator("local:test".into());
        assert_eq!(
            code(publish(&s, &operator, new(None)).await),
            Code::BadRequest
        );
        let bob = token("bob", "publish,run");
        assert_eq!(
            code(publish(&s, &bob, new(Some("alice"))).await),
            Code::Forbidden
        );
        assert_eq!(
            code(publish(&s, &token("bob", "run"), new(None)).await),
            Code::Forbidden
        );
        let nobody = Viewer::default();
        assert_eq!(
            code(versions(&s, &nobody, "alice", "m").await),
            Code::NotFound
        );

        let p = publish(&s, &operator, new(Some("alice"))).await.unwrap();
        assert_eq!((p.model.as_str(), p.version), ("alice/m", 1));
        let p = publish(&s, &token("alice", "publish"), new(None))
            .await
            .unwrap();
        assert_eq!(p.version, 2);
    }

    #[tokio::test]
    async fn only_the_owner_deletes_and_a_deleted_version_is_gone_from_memory_too() {
        let (_dir, s) = service().await;
        let (m, up) = (manifest(), upload(&s).await);
        let alice = token("alice", "publish,run");
        for _ in 0..2 {
            let new = NewVersion {
                owner: None,
                manifest: &m,
                upload: &up,
                visibility: None,
                number: None,
            };
            publish(&s, &alice, new).await.unwrap();
        }
        let anyone = Viewer::default();
        // Read once, so the version is kept in memory.
        crate::exec::resolve(&s, "alice", "m@1", &anyone)
            .await
            .unwrap();
        let bob = token("bob", "publish,run");
        assert_eq!(
            code(delete_version(&s, &bob, "alice", "m", "1").await),
            Code::Forbidden
        );
        assert_eq!(
            code(delete_version(&s, &alice, "alice", "m", "latest").await),
            Code::BadRequest
        );
        let huge = "830343107072565638890572563";
        assert_eq!(
            code(delete_version(&s, &alice, "alice", "m", huge).await),
            Code::NotFound
        );
        delete_version(&s, &alice, "alice", "m", "1").await.unwrap();
        let gone = crate::exec::resolve(&s, "alice", "m@1", &anyone).await;
        assert_eq!(code(gone), Code::NotFound);
        assert_eq!(versions(&s, &anyone, "alice", "m").await.unwrap().len(), 1);
        delete_model(&s, &alice, "alice", "m").await.unwrap();
        assert_eq!(code(model(&s, &anyone, "alice", "m").await), Code::NotFound);
    }
}
