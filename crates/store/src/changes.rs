//! Changes to models that every server sharing the registry must hear of: what one replica
//! changes, the others forget from their caches (and a deleted version's workers stop there
//! too). Announced in the transaction of the change, so a replica hears of it once it is
//! committed, never before.

use serde::{Deserialize, Serialize};

/// A change to one model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// A new version: `latest` moved, and every server prepares the version to answer at once.
    Published {
        owner: String,
        name: String,
        version: i64,
    },
    /// The model's visibility, an alias or a grant changed: what is remembered of the model is
    /// stale.
    Changed { owner: String, name: String },
    /// One version deleted: its engine goes too.
    VersionDeleted {
        owner: String,
        name: String,
        version: i64,
    },
    /// The model and all its versions deleted.
    ModelDeleted { owner: String, name: String },
}

impl Change {
    pub fn changed(owner: &str, name: &str) -> Self {
        Change::Changed {
            owner: owner.into(),
            name: name.into(),
        }
    }

    /// The model it concerns.
    pub fn model(&self) -> (&str, &str) {
        match self {
            Change::Changed { owner, name }
            | Change::Published { owner, name, .. }
            | Change::VersionDeleted { owner, name, .. }
            | Change::ModelDeleted { owner, name } => (owner, name),
        }
    }
}

/// What a watcher of the registry hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// A change another server made.
    Change(Change),
    /// A change this registry made, heard back: its server has applied it already.
    Own(Change),
    /// The connection that listens was lost and made again: changes made meanwhile were not
    /// heard, so anything remembered may be stale.
    Lost,
}

/// A change as it travels between servers: with who sent it, so that a server knows its own.
#[derive(Debug, Serialize, Deserialize)]
pub struct Announced {
    pub from: String,
    pub change: Change,
}

#[cfg(test)]
mod tests {
    use super::Change;

    #[test]
    fn a_change_travels_as_small_json() {
        let c = Change::VersionDeleted {
            owner: "ana".into(),
            name: "iris".into(),
            version: 3,
        };
        let text = serde_json::to_string(&c).unwrap();
        assert_eq!(
            text,
            r#"{"kind":"version_deleted","owner":"ana","name":"iris","version":3}"#
        );
        assert_eq!(serde_json::from_str::<Change>(&text).unwrap(), c);
        assert_eq!(c.model(), ("ana", "iris"));
    }
}
