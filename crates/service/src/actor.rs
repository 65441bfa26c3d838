//! Who asks, and the checks every service applies to them.

use feather_store::{Principal, Role, Scope, Viewer};

use crate::{Result, ServiceError};

/// Who asks for something.
#[derive(Debug, Clone)]
pub enum Actor {
    /// A caller with a valid token: its user, role and scopes.
    Token(Principal),
    /// The machine's operator, working on the data folder directly: an admin without a token,
    /// named `local:<account>` in the audit log.
    Operator(String),
}

impl Actor {
    /// The name the audit log records.
    pub fn name(&self) -> &str {
        match self {
            Self::Token(p) => &p.user,
            Self::Operator(name) => name,
        }
    }

    /// The user a token speaks for; the operator is no user.
    pub fn user(&self) -> Option<&str> {
        match self {
            Self::Token(p) => Some(&p.user),
            Self::Operator(_) => None,
        }
    }

    /// An admin acting as one (the operator always is).
    pub fn is_admin(&self) -> bool {
        match self {
            Self::Token(p) => p.is_admin(),
            Self::Operator(_) => true,
        }
    }

    pub fn has(&self, scope: Scope) -> bool {
        match self {
            Self::Token(p) => p.has(scope),
            Self::Operator(_) => true,
        }
    }

    /// When the caller's own token expires (Unix seconds).
    pub fn expires_at(&self) -> Option<i64> {
        match self {
            Self::Token(p) => p.expires_at,
            Self::Operator(_) => None,
        }
    }

    /// The calling token's id.
    pub fn token(&self) -> Option<i64> {
        match self {
            Self::Token(p) => Some(p.token),
            Self::Operator(_) => None,
        }
    }

    /// What the caller may see: its user's own and shared models, or everything as an admin.
    pub fn viewer(&self) -> Viewer {
        Viewer {
            user: self.user().map(str::to_owned),
            admin: self.is_admin(),
        }
    }

    /// Refuses unless the token carries `scope`.
    pub fn require(&self, scope: Scope) -> Result<()> {
        if self.has(scope) {
            Ok(())
        } else {
            Err(ServiceError::forbidden(format!(
                "this token lacks the `{}` scope",
                scope.as_str()
            )))
        }
    }

    /// Refuses unless the caller is an admin acting as one.
    pub fn must_be_admin(&self) -> Result<()> {
        if let Self::Token(p) = self
            && p.role != Role::Admin
        {
            return Err(ServiceError::forbidden(format!(
                "{} is not an admin",
                p.user
            )));
        }
        self.require(Scope::Admin)
    }

    /// Refuses unless the caller may change `owner`'s models: the owner with a publish token,
    /// or an admin.
    pub fn must_manage(&self, owner: &str) -> Result<()> {
        if self.is_admin() {
            return Ok(());
        }
        self.require(Scope::Publish)?;
        if self.user() == Some(owner) {
            Ok(())
        } else {
            Err(ServiceError::forbidden(format!(
                "only {owner} (or an admin) may change {owner}'s models"
            )))
        }
    }

    /// Refuses unless the caller may act on `user`'s things: that user, or an admin.
    pub fn must_be_or_admin(&self, user: &str) -> Result<()> {
        if self.user() == Some(user) || self.is_admin() {
            Ok(())
        } else {
            Err(ServiceError::forbidden(format!(
                "only {user} (or an admin) may do that"
            )))
        }
    }

    /// Refuses a token that may only run models: listing and revoking a user's tokens needs
    /// `publish` or `admin`, so a token handed to a program cannot take its owner's others.
    pub fn must_manage_tokens(&self) -> Result<()> {
        if self.has(Scope::Publish) || self.has(Scope::Admin) {
            Ok(())
        } else {
            Err(ServiceError::forbidden(
                "a token that may only run models may revoke itself, but not list or revoke its user's other tokens",
            ))
        }
    }
}
