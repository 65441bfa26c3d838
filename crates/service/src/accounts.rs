//! Users, roles, tokens and the audit log: who may make, see and revoke what.
//!
//! The narrowing rule lives here once: a token makes tokens for its own user with no more
//! scopes and no later expiry than itself (by default they expire with it). Admins, and the
//! operator on the data folder, may make any user's tokens.

use std::collections::BTreeSet;

use feather_store::accounts::{rfc3339, unix_now};
use feather_store::{AuditPage, AuditQuery, NewToken, Role, Scope, Store, TokenInfo, UserInfo};

use crate::{Actor, Result, ServiceError};

/// The longest a token may be made to live, in days.
pub const MAX_DAYS: u32 = 3650;

/// A token to make.
#[derive(Debug, Clone, Default)]
pub struct TokenRequest {
    /// Whose: the caller's own user by default (the operator must name one).
    pub user: Option<String>,
    pub scopes: BTreeSet<Scope>,
    /// Days until it expires, 1 to [`MAX_DAYS`]; none: as long as the calling token lives.
    pub expires_in_days: Option<u32>,
    pub label: Option<String>,
}

/// Makes a token; returns it (shown once, only its hash is kept) with its record.
pub async fn create_token(
    store: &Store,
    actor: &Actor,
    req: TokenRequest,
) -> Result<(String, TokenInfo)> {
    let user = match (req.user, actor.user()) {
        (Some(u), _) => u,
        (None, Some(own)) => own.to_owned(),
        (None, None) => {
            return Err(ServiceError::bad_request("name the token's user (--user)"));
        }
    };
    actor.must_be_or_admin(&user)?;
    let expires_at = match req.expires_in_days {
        Some(d @ 1..=MAX_DAYS) => Some(unix_now() + i64::from(d) * 86_400),
        Some(_) => {
            return Err(ServiceError::bad_request(format!(
                "expires_in_days is between 1 and {MAX_DAYS}"
            )));
        }
        None => None,
    };
    let expires_at = if actor.is_admin() {
        expires_at
    } else {
        if let Some(extra) = req.scopes.iter().find(|sc| !actor.has(**sc)) {
            return Err(ServiceError::forbidden(format!(
                "this token lacks the `{}` scope, so it cannot give it",
                extra.as_str()
            )));
        }
        if let Some(limit) = actor.expires_at()
            && expires_at.is_some_and(|e| e > limit)
        {
            return Err(ServiceError::forbidden(format!(
                "this token expires at {}, so a token it makes must expire no later",
                rfc3339(limit)
            )));
        }
        // A token made by an expiring token expires with it, unless it asks to go sooner.
        expires_at.or(actor.expires_at())
    };
    let new = NewToken {
        user,
        scopes: req.scopes,
        expires_at,
        label: req.label,
    };
    Ok(store.registry.create_token(actor.name(), &new).await?)
}

/// Tokens (never the tokens themselves), newest first: `user`'s, by default the caller's own;
/// the operator sees everyone's by default.
pub async fn tokens(store: &Store, actor: &Actor, user: Option<&str>) -> Result<Vec<TokenInfo>> {
    let user = user.or(actor.user());
    if let Some(u) = user {
        actor.must_be_or_admin(u)?;
    }
    actor.must_manage_tokens()?;
    Ok(store.registry.tokens(user).await?)
}

/// Revokes a token at once: any token may revoke itself; its user's others need a token that
/// may manage them; anyone's an admin.
pub async fn revoke_token(store: &Store, actor: &Actor, id: i64) -> Result<TokenInfo> {
    let token = store.registry.token(id).await?;
    // Someone else's token is "not found": its id is not theirs to probe.
    if actor.must_be_or_admin(&token.user).is_err() {
        return Err(ServiceError::not_found(format!("token {id} not found")));
    }
    if actor.token() != Some(id) {
        actor.must_manage_tokens()?;
    }
    Ok(store.registry.revoke_token(actor.name(), id).await?)
}

/// Users (admins only).
pub async fn users(store: &Store, actor: &Actor) -> Result<Vec<UserInfo>> {
    actor.must_be_admin()?;
    Ok(store.registry.users().await?)
}

/// Creates a user (admins only).
pub async fn create_user(store: &Store, actor: &Actor, name: &str, role: Role) -> Result<UserInfo> {
    actor.must_be_admin()?;
    Ok(store.registry.create_user(actor.name(), name, role).await?)
}

/// Changes a user's role (admins only); the last admin stays one.
pub async fn set_role(store: &Store, actor: &Actor, name: &str, role: Role) -> Result<UserInfo> {
    actor.must_be_admin()?;
    Ok(store.registry.set_role(actor.name(), name, role).await?)
}

/// The audit log: all of it for admins, what the caller did or what concerned them otherwise.
pub async fn audit(store: &Store, actor: &Actor, mut q: AuditQuery) -> Result<AuditPage> {
    q.concerning = (!actor.is_admin()).then(|| actor.name().to_owned());
    Ok(store.registry.audit(&q).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Code;
    use feather_store::{BundleLimits, Principal};

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), &Default::default(), BundleLimits::default())
            .await
            .unwrap();
        (dir, store)
    }

    fn caller(user: &str, scopes: &str, expires_at: Option<i64>) -> Actor {
        Actor::Token(Principal {
            user: user.into(),
            role: Role::Developer,
            scopes: Scope::parse_list(scopes).unwrap(),
            token: 1,
            expires_at,
        })
    }

    #[tokio::test]
    async fn a_token_makes_no_token_that_may_do_more_or_live_longer_than_itself() {
        let (_dir, store) = store().await;
        let operator = Actor::Operator("local:test".into());
        create_user(&store, &operator, "alice", Role::Developer)
            .await
            .unwrap();
        let soon = unix_now() + 86_400;
        let alice = caller("alice", "run", Some(soon));
        let asks = |scopes: &str, days| TokenRequest {
            scopes: Scope::parse_list(scopes).unwrap(),
            expires_in_days: days,
            ..TokenRequest::default()
        };
        let more = create_token(&store, &alice, asks("run,publish", None)).await;
        assert!(
            matches!(
                more,
                Err(ServiceError {
                    code: Code::Forbidden,
                    ..
                })
            ),
            "{more:?}"
        );
        let longer = create_token(&store, &alice, asks("run", Some(30))).await;
        assert!(
            matches!(
                longer,
                Err(ServiceError {
                    code: Code::Forbidden,
                    ..
                })
            ),
            "{longer:?}"
        );
        let (_, made) = create_token(&store, &alice, asks("run", None))
            .await
            .unwrap();
        assert_eq!(made.user, "alice");
        assert!(
            made.expires_at.is_some(),
            "it expires with the token that made it"
        );
        let never = create_token(&store, &alice, asks("run", Some(MAX_DAYS + 1))).await;
        assert!(
            matches!(
                never,
                Err(ServiceError {
                    code: Code::BadRequest,
                    ..
                })
            ),
            "{never:?}"
        );
        // The operator gives what it likes, but must say to whom.
        let anyone = create_token(&store, &operator, asks("publish,run", None)).await;
        assert!(
            matches!(
                anyone,
                Err(ServiceError {
                    code: Code::BadRequest,
                    ..
                })
            ),
            "{anyone:?}"
        );
        let req = TokenRequest {
            user: Some("alice".into()),
            ..asks("publish,run", Some(MAX_DAYS))
        };
        assert!(create_token(&store, &operator, req).await.is_ok());
    }

    #[tokio::test]
    async fn only_admins_manage_users_and_others_read_their_own_audit() {
        let (_dir, store) = store().await;
        let operator = Actor::Operator("local:test".into());
        create_user(&store, &operator, "alice", Role::Developer)
            .await
            .unwrap();
        create_user(&store, &operator, "bob", Role::Developer)
            .await
            .unwrap();
        let alice = caller("alice", "publish,run", None);
        assert!(matches!(
            users(&store, &alice).await,
            Err(ServiceError {
                code: Code::Forbidden,
                ..
            })
        ));
        assert!(
            create_user(&store, &alice, "carol", Role::Admin)
                .await
                .is_err()
        );
        let page = audit(
            &store,
            &alice,
            AuditQuery {
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(
            page.entries
                .iter()
                .all(|e| e.owner.as_deref() == Some("alice"))
        );
        assert_eq!(users(&store, &operator).await.unwrap().len(), 2);
    }
}
