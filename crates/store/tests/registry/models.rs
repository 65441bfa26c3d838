use std::collections::BTreeSet;

use feather_store::{ModelQuery, Registry, StoreError, Viewer};

use crate::{err, publish, publish_numbered, publish_tagged};

pub async fn versions_are_numbered_per_model_and_latest_follows(r: &dyn Registry) {
    assert_eq!(publish(r, "alice", "a", "sha256:1", None).await, 1);
    assert_eq!(publish(r, "alice", "a", "sha256:2", None).await, 2);
    assert_eq!(publish(r, "alice", "b", "sha256:1", None).await, 1);
    assert_eq!(publish(r, "bob", "a", "sha256:3", None).await, 1);

    let latest = r.version("alice", "a", "latest").await.unwrap();
    assert_eq!(
        (latest.version.version, latest.version.digest.as_str()),
        (2, "sha256:2")
    );
    let first = r.version("alice", "a", "1").await.unwrap();
    assert_eq!(first.version.digest, "sha256:1");
    let numbers: Vec<i64> = r
        .versions("alice", "a")
        .await
        .unwrap()
        .iter()
        .map(|v| v.version)
        .collect();
    assert_eq!(numbers, [2, 1], "newest first");
    let m = r.model("alice", "a").await.unwrap();
    assert_eq!(
        (m.latest_version, m.versions, m.title.as_str()),
        (Some(2), 2, "The a model")
    );
    assert_eq!(m.aliases.get("latest"), Some(&2));

    assert!(matches!(
        err(r.version("alice", "a", "3").await),
        StoreError::NotFound(_)
    ));
    assert!(matches!(
        err(r.model("carol", "a").await),
        StoreError::NotFound(_)
    ));
    assert!(r.owner_has_digest("alice", "sha256:2").await.unwrap());
    assert!(
        !r.owner_has_digest("alice", "sha256:3").await.unwrap(),
        "bob's bundle"
    );
}

pub async fn deleted_numbers_are_never_reused_and_latest_moves_back(r: &dyn Registry) {
    publish(r, "alice", "a", "sha256:1", None).await;
    publish(r, "alice", "a", "sha256:2", None).await;
    assert_eq!(
        r.delete_version("alice", "alice", "a", 2).await.unwrap(),
        "sha256:2"
    );
    assert_eq!(
        r.version("alice", "a", "latest")
            .await
            .unwrap()
            .version
            .version,
        1
    );
    assert!(matches!(
        err(r.version("alice", "a", "2").await),
        StoreError::NotFound(_)
    ));
    assert!(matches!(
        err(r.delete_version("alice", "alice", "a", 2).await),
        StoreError::NotFound(_)
    ));
    assert_eq!(publish(r, "alice", "a", "sha256:3", None).await, 3);
    assert!(!r.digest_in_use("sha256:2").await.unwrap());
    assert!(r.digest_in_use("sha256:3").await.unwrap());
}

pub async fn a_copy_keeps_its_number_and_later_versions_go_on_from_it(r: &dyn Registry) {
    let copy = |digest, number| publish_numbered(r, ("alice", "a", digest), &[], None, number);
    assert_eq!(copy("sha256:7", Some(7)).await.unwrap(), 7);
    let m = r.model("alice", "a").await.unwrap();
    assert_eq!((m.latest_version, m.versions), (Some(7), 1));
    assert_eq!(copy("sha256:8", None).await.unwrap(), 8);
    // A number the model has is refused, and the refusal leaves the model as it was.
    assert!(matches!(
        err(copy("sha256:9", Some(7)).await),
        StoreError::Conflict(_)
    ));
    let latest = r.version("alice", "a", "latest").await.unwrap();
    assert_eq!(
        (latest.version.version, latest.version.digest.as_str()),
        (8, "sha256:8")
    );
    assert_eq!(copy("sha256:9", None).await.unwrap(), 9);
}

pub async fn a_deleted_model_gives_back_its_digests_and_is_gone(r: &dyn Registry) {
    publish(r, "alice", "a", "sha256:1", None).await;
    publish(r, "alice", "a", "sha256:2", None).await;
    publish(r, "alice", "a", "sha256:2", None).await;
    publish(r, "alice", "b", "sha256:1", None).await;
    let digests: BTreeSet<String> = r
        .delete_model("alice", "alice", "a")
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(
        digests,
        BTreeSet::from(["sha256:1".into(), "sha256:2".into()])
    );
    assert!(matches!(
        err(r.model("alice", "a").await),
        StoreError::NotFound(_)
    ));
    assert!(matches!(
        err(r.versions("alice", "a").await),
        StoreError::NotFound(_)
    ));
    assert!(
        r.digest_in_use("sha256:1").await.unwrap(),
        "alice/b still uses it"
    );
    assert!(!r.digest_in_use("sha256:2").await.unwrap());
    // The name is free again, and numbers start over for the new model.
    assert_eq!(publish(r, "alice", "a", "sha256:4", None).await, 1);
}

pub async fn search_finds_by_words_tag_and_owner_a_page_at_a_time(r: &dyn Registry) {
    let vision = ["vision".to_owned()];
    publish_tagged(r, "alice", "digits", "sha256:1", &vision, None).await;
    publish_tagged(r, "alice", "shout", "sha256:2", &[], None).await;
    publish_tagged(r, "bob", "faces", "sha256:3", &vision, None).await;
    let query = |q: Option<&str>, tag: Option<&str>, owner: Option<&str>| ModelQuery {
        q: q.map(Into::into),
        tag: tag.map(Into::into),
        owner: owner.map(Into::into),
        page: 1,
        per_page: 20,
        viewer: Viewer::default(),
    };
    let names = |p: feather_store::ModelPage| -> BTreeSet<String> {
        p.models
            .into_iter()
            .map(|m| format!("{}/{}", m.owner, m.name))
            .collect()
    };
    let all = r.search(&query(None, None, None)).await.unwrap();
    assert_eq!(all.total, 3);
    let found = r
        .search(&query(Some("DIGITS model"), None, None))
        .await
        .unwrap();
    assert_eq!(names(found), BTreeSet::from(["alice/digits".into()]));
    let tagged = r.search(&query(None, Some("vision"), None)).await.unwrap();
    assert_eq!(
        names(tagged),
        BTreeSet::from(["alice/digits".into(), "bob/faces".into()])
    );
    let bobs = r.search(&query(None, None, Some("bob"))).await.unwrap();
    assert_eq!(names(bobs), BTreeSet::from(["bob/faces".into()]));

    let mut seen = BTreeSet::new();
    for page in 1..=2 {
        let q = ModelQuery {
            page,
            per_page: 2,
            ..query(None, None, None)
        };
        let p = r.search(&q).await.unwrap();
        assert_eq!(
            (p.total, p.models.len()),
            (3, if page == 1 { 2 } else { 1 })
        );
        seen.extend(names(p));
    }
    assert_eq!(seen.len(), 3, "pages neither repeat nor skip a model");
}
