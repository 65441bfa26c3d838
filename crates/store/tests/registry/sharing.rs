use feather_store::{Registry, Role, StoreError, Viewer, Visibility};

use crate::{err, publish};

fn viewer(user: Option<&str>, admin: bool) -> Viewer {
    Viewer {
        user: user.map(Into::into),
        admin,
    }
}

pub async fn private_models_are_seen_by_their_owner_grantees_and_admins_only(r: &dyn Registry) {
    for u in ["alice", "bob", "carol"] {
        r.create_user("local:test", u, Role::Developer)
            .await
            .unwrap();
    }
    publish(r, "alice", "secret", "sha256:1", Some(Visibility::Private)).await;
    publish(r, "alice", "open", "sha256:2", None).await;
    let sees = |v: Viewer| async move { r.visible("alice", "secret", &v).await };
    assert_eq!(
        sees(viewer(Some("alice"), false)).await.unwrap(),
        Visibility::Private
    );
    assert_eq!(sees(viewer(None, true)).await.unwrap(), Visibility::Private);
    assert!(matches!(
        err(sees(viewer(None, false)).await),
        StoreError::NotFound(_)
    ));
    assert!(matches!(
        err(sees(viewer(Some("bob"), false)).await),
        StoreError::NotFound(_)
    ));
    let anyone = r
        .visible("alice", "open", &Viewer::default())
        .await
        .unwrap();
    assert_eq!(anyone, Visibility::Public);

    r.grant("alice", "alice", "secret", "bob").await.unwrap();
    r.grant("alice", "alice", "secret", "bob").await.unwrap();
    assert_eq!(
        sees(viewer(Some("bob"), false)).await.unwrap(),
        Visibility::Private
    );
    assert!(matches!(
        err(sees(viewer(Some("carol"), false)).await),
        StoreError::NotFound(_)
    ));
    let grants = r.grants("alice", "secret").await.unwrap();
    assert_eq!(
        grants.iter().map(|g| g.user.as_str()).collect::<Vec<_>>(),
        ["bob"]
    );
    assert!(matches!(
        err(r.grant("alice", "alice", "secret", "alice").await),
        StoreError::Conflict(_)
    ));
    assert!(matches!(
        err(r.grant("alice", "alice", "secret", "nobody").await),
        StoreError::NotFound(_)
    ));

    r.ungrant("alice", "alice", "secret", "bob").await.unwrap();
    assert!(matches!(
        err(sees(viewer(Some("bob"), false)).await),
        StoreError::NotFound(_)
    ));
    assert!(matches!(
        err(r.ungrant("alice", "alice", "secret", "bob").await),
        StoreError::NotFound(_)
    ));

    r.set_visibility("alice", "alice", "secret", Visibility::Public)
        .await
        .unwrap();
    assert_eq!(sees(viewer(None, false)).await.unwrap(), Visibility::Public);
    // Publishing without saying keeps the model's visibility; saying changes it.
    publish(r, "alice", "secret", "sha256:3", None).await;
    assert_eq!(
        r.model("alice", "secret").await.unwrap().visibility,
        Visibility::Public
    );
    publish(r, "alice", "secret", "sha256:4", Some(Visibility::Private)).await;
    assert!(matches!(
        err(sees(viewer(None, false)).await),
        StoreError::NotFound(_)
    ));
}

pub async fn aliases_name_existing_versions_and_say_what_they_named_before(r: &dyn Registry) {
    publish(r, "alice", "a", "sha256:1", None).await;
    publish(r, "alice", "a", "sha256:2", None).await;
    assert_eq!(
        r.set_alias("alice", "alice", "a", "prod", 1).await.unwrap(),
        None
    );
    assert_eq!(
        r.version("alice", "a", "prod")
            .await
            .unwrap()
            .version
            .version,
        1
    );
    assert_eq!(
        r.set_alias("alice", "alice", "a", "prod", 2).await.unwrap(),
        Some(1)
    );
    assert_eq!(
        r.version("alice", "a", "prod")
            .await
            .unwrap()
            .version
            .version,
        2
    );
    assert!(matches!(
        err(r.set_alias("alice", "alice", "a", "prod", 9).await),
        StoreError::NotFound(_)
    ));
    assert!(matches!(
        err(r.set_alias("alice", "alice", "a", "latest", 1).await),
        StoreError::Conflict(_)
    ));
    assert!(matches!(
        err(r.set_alias("alice", "alice", "a", "Prod!", 1).await),
        StoreError::BadRequest(_)
    ));
    let m = r.model("alice", "a").await.unwrap();
    assert_eq!(m.aliases.get("prod"), Some(&2));

    r.delete_alias("alice", "alice", "a", "prod").await.unwrap();
    assert!(matches!(
        err(r.version("alice", "a", "prod").await),
        StoreError::NotFound(_)
    ));
    assert!(matches!(
        err(r.delete_alias("alice", "alice", "a", "prod").await),
        StoreError::NotFound(_)
    ));
    assert!(matches!(
        err(r.delete_alias("alice", "alice", "a", "latest").await),
        StoreError::Conflict(_)
    ));
}
