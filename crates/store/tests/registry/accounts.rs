use std::collections::BTreeSet;

use feather_store::accounts::unix_now;
use feather_store::{Action, AuditQuery, NewToken, Registry, Role, Scope, StoreError};

use crate::{err, publish};

fn token(user: &str, scopes: &str, expires_at: Option<i64>) -> NewToken {
    NewToken {
        user: user.into(),
        scopes: Scope::parse_list(scopes).unwrap(),
        expires_at,
        label: Some("ci".into()),
    }
}

pub async fn tokens_authenticate_until_revoked_or_expired(r: &dyn Registry) {
    r.create_user("local:test", "alice", Role::Developer)
        .await
        .unwrap();
    let (secret, info) = r
        .create_token("local:test", &token("alice", "publish,run", None))
        .await
        .unwrap();
    assert!(secret.starts_with(&info.prefix));
    assert_eq!(
        (info.user.as_str(), info.label.as_deref()),
        ("alice", Some("ci"))
    );
    let p = r.authenticate(&secret).await.unwrap();
    assert_eq!(
        (p.user.as_str(), p.role, p.token),
        ("alice", Role::Developer, info.id)
    );
    assert_eq!(p.scopes, BTreeSet::from([Scope::Publish, Scope::Run]));
    assert!(matches!(
        err(r.authenticate("ftr_unknown").await),
        StoreError::Unauthorized(_)
    ));
    let admin = r
        .create_token("local:test", &token("alice", "admin", None))
        .await;
    assert!(matches!(err(admin), StoreError::Forbidden(_)));
    let past = r
        .create_token("local:test", &token("alice", "run", Some(unix_now() - 1)))
        .await;
    assert!(matches!(err(past), StoreError::BadRequest(_)));

    let revoked = r.revoke_token("alice", info.id).await.unwrap();
    assert!(revoked.revoked_at.is_some());
    assert!(matches!(
        err(r.authenticate(&secret).await),
        StoreError::Unauthorized(_)
    ));

    let (brief, _) = r
        // Expiry is in whole seconds: two of them, so that it cannot pass between the
        // creation and the first check on a busy machine.
        .create_token("local:test", &token("alice", "run", Some(unix_now() + 2)))
        .await
        .unwrap();
    assert_eq!(
        r.authenticate(&brief)
            .await
            .unwrap()
            .expires_at
            .map(|t| t > 0),
        Some(true)
    );
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    assert!(matches!(
        err(r.authenticate(&brief).await),
        StoreError::Unauthorized(_)
    ));
    let listed = r.tokens(Some("alice")).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(r.tokens(Some("bob")).await.unwrap().is_empty());
    assert!(matches!(err(r.token(999).await), StoreError::NotFound(_)));
}

pub async fn names_are_unique_and_the_last_admin_stays_one(r: &dyn Registry) {
    r.create_user("local:test", "root", Role::Admin)
        .await
        .unwrap();
    let again = r.create_user("local:test", "root", Role::Developer).await;
    assert!(matches!(err(again), StoreError::Conflict(_)));
    assert!(matches!(
        err(r
            .create_user("local:test", "Bad Name", Role::Developer)
            .await),
        StoreError::BadRequest(_)
    ));
    let last = r.set_role("local:test", "root", Role::Developer).await;
    assert!(matches!(err(last), StoreError::Conflict(_)));

    let (secret, _) = r
        .create_token("local:test", &token("root", "admin,run", None))
        .await
        .unwrap();
    assert!(
        r.authenticate(&secret)
            .await
            .unwrap()
            .scopes
            .contains(&Scope::Admin)
    );
    r.create_user("local:test", "ops", Role::Admin)
        .await
        .unwrap();
    assert_eq!(
        r.set_role("local:test", "root", Role::Developer)
            .await
            .unwrap()
            .role,
        Role::Developer
    );
    // A demoted user's tokens lose the admin scope at once.
    let p = r.authenticate(&secret).await.unwrap();
    assert_eq!(p.scopes, BTreeSet::from([Scope::Run]));
    let names: Vec<String> = r
        .users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, ["ops", "root"]);
    assert!(matches!(
        err(r.user("nobody").await),
        StoreError::NotFound(_)
    ));
}

pub async fn every_change_is_audited_and_others_read_only_what_concerns_them(r: &dyn Registry) {
    r.create_user("local:test", "bob", Role::Developer)
        .await
        .unwrap();
    publish(r, "alice", "a", "sha256:1", None).await;
    r.set_alias("alice", "alice", "a", "prod", 1).await.unwrap();
    publish(r, "carol", "c", "sha256:2", None).await;
    let q = |concerning: Option<&str>, limit| AuditQuery {
        concerning: concerning.map(Into::into),
        limit,
        ..AuditQuery::default()
    };
    let all = r.audit(&q(None, 100)).await.unwrap();
    let actions: Vec<&str> = all.entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            Action::Publish,
            Action::SetAlias,
            Action::Publish,
            Action::CreateUser
        ]
        .map(Action::as_str),
        "newest first"
    );
    assert_eq!(all.entries[1].target, "alice/a@prod");
    let carols = r.audit(&q(Some("carol"), 100)).await.unwrap();
    assert_eq!(
        carols
            .entries
            .iter()
            .map(|e| e.target.as_str())
            .collect::<Vec<_>>(),
        ["carol/c@1"]
    );

    let first = r.audit(&q(None, 3)).await.unwrap();
    assert_eq!(first.entries.len(), 3);
    let rest = r
        .audit(&AuditQuery {
            before: first.next_before,
            ..q(None, 3)
        })
        .await
        .unwrap();
    assert_eq!(rest.entries.len(), 1);
    assert_eq!(rest.next_before, None);
}

/// Two admins demoted at the same moment, each by the other: one of them stays an admin,
/// however the two transactions interleave.
pub async fn two_admins_demoted_at_once_leave_one(r: &dyn Registry) {
    for user in ["ana", "bo"] {
        r.create_user("local:test", user, Role::Admin)
            .await
            .unwrap();
    }
    for round in 0..20 {
        let (a, b) = tokio::join!(
            r.set_role("bo", "ana", Role::Developer),
            r.set_role("ana", "bo", Role::Developer)
        );
        let admins: Vec<String> = r
            .users()
            .await
            .unwrap()
            .into_iter()
            .filter(|u| u.role == Role::Admin)
            .map(|u| u.name)
            .collect();
        assert_eq!(
            admins.len(),
            1,
            "round {round}: {a:?} {b:?} left {admins:?}"
        );
        assert!(a.is_ok() != b.is_ok(), "round {round}: {a:?} {b:?}");
        // Both admins again for the next round.
        for user in ["ana", "bo"] {
            r.set_role("local:test", user, Role::Admin).await.unwrap();
        }
    }
}

/// Tokens asked for at once when a user has all but one of the most they may have: one is made.
pub async fn tokens_made_at_once_stop_at_the_cap(r: &dyn Registry) {
    use feather_store::accounts::MAX_ACTIVE_TOKENS;
    r.create_user("local:test", "cap", Role::Developer)
        .await
        .unwrap();
    for _ in 1..MAX_ACTIVE_TOKENS {
        r.create_token("cap", &token("cap", "run", None))
            .await
            .unwrap();
    }
    for round in 0..5 {
        let asked = (0..8).map(|_| async {
            let new = token("cap", "run", None);
            r.create_token("cap", &new).await
        });
        let made: Vec<_> = futures::future::join_all(asked).await;
        let ok: Vec<i64> = made
            .iter()
            .filter_map(|m| m.as_ref().ok().map(|(_, t)| t.id))
            .collect();
        assert_eq!(ok.len(), 1, "round {round}: {} made", ok.len());
        for m in &made {
            if let Err(e) = m {
                assert!(matches!(e, StoreError::Conflict(_)), "round {round}: {e:?}");
            }
        }
        let active = r
            .tokens(Some("cap"))
            .await
            .unwrap()
            .into_iter()
            .filter(|t| t.revoked_at.is_none())
            .count();
        assert_eq!(active as i64, MAX_ACTIVE_TOKENS, "round {round}");
        r.revoke_token("cap", ok[0]).await.unwrap();
    }
}
