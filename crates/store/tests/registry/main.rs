//! The registry's conformance suite: every check is written against the [`Registry`] traits
//! alone and runs on each implementation. A new one (PostgreSQL, say) is done when it is added
//! to `backends!` below and every check passes on it.

mod accounts;
mod changes;
mod claims;
mod files;
mod listening;
mod models;
mod runs;
mod sharing;

use std::sync::Arc;

use feather_store::registry::NewVersion;
use feather_store::{PostgresRegistry, Registry, SqliteRegistry, StoreError, Visibility};

/// An opened registry, and what must live as long as it.
pub struct Backend {
    _dir: tempfile::TempDir,
    pub registry: Arc<dyn Registry>,
}

pub async fn sqlite() -> Backend {
    let dir = tempfile::tempdir().unwrap();
    let registry = SqliteRegistry::open(&dir.path().join("feather.db"))
        .await
        .unwrap();
    Backend {
        _dir: dir,
        registry: Arc::new(registry),
    }
}

/// A new database on the test run's PostgreSQL server (`scripts/postgres.sh`, which
/// `scripts/test` starts and names in `FEATHER_TEST_POSTGRES`).
pub async fn postgres() -> Backend {
    let registry = PostgresRegistry::open(&feather_testkit::postgres_database("registry").await)
        .await
        .unwrap();
    Backend {
        _dir: tempfile::tempdir().unwrap(),
        registry: Arc::new(registry),
    }
}

/// One test per check and backend, named after the check, in a module named after the backend.
macro_rules! backends {
    ($($backend:ident),* ; $checks:tt) => {
        $( backends!(@one $backend $checks); )*
    };
    (@one $backend:ident [$($group:ident :: $check:ident),* $(,)?]) => {
        mod $backend {
            $(
                #[tokio::test]
                async fn $check() {
                    let b = crate::$backend().await;
                    crate::$group::$check(b.registry.as_ref()).await;
                    b.registry.close().await;
                }
            )*
        }
    };
}

backends!(sqlite, postgres; [
    models::versions_are_numbered_per_model_and_latest_follows,
    models::deleted_numbers_are_never_reused_and_latest_moves_back,
    models::a_copy_keeps_its_number_and_later_versions_go_on_from_it,
    models::a_deleted_model_gives_back_its_digests_and_is_gone,
    models::search_finds_by_words_tag_and_owner_a_page_at_a_time,
    sharing::private_models_are_seen_by_their_owner_grantees_and_admins_only,
    sharing::aliases_name_existing_versions_and_say_what_they_named_before,
    runs::exactly_one_claim_wins_and_only_its_holder_records_the_step,
    runs::a_lapsed_claim_is_taken_over_and_its_first_holder_records_nothing,
    files::files_expire_unless_a_run_takes_them,
    files::old_runs_go_with_their_files,
    files::one_holder_at_a_time_has_a_lease_until_it_lapses,
    accounts::tokens_authenticate_until_revoked_or_expired,
    accounts::names_are_unique_and_the_last_admin_stays_one,
    accounts::two_admins_demoted_at_once_leave_one,
    accounts::tokens_made_at_once_stop_at_the_cap,
    accounts::every_change_is_audited_and_others_read_only_what_concerns_them,
    changes::a_watcher_hears_each_committed_change_and_nothing_else,
    claims::a_blob_goes_only_when_no_write_claims_it_and_nothing_names_it,
]);

/// Publishes the next version of `owner/name` with this bundle digest.
pub async fn publish(
    r: &dyn Registry,
    owner: &str,
    name: &str,
    digest: &str,
    visibility: Option<Visibility>,
) -> i64 {
    publish_tagged(r, owner, name, digest, &[], visibility).await
}

pub async fn publish_tagged(
    r: &dyn Registry,
    owner: &str,
    name: &str,
    digest: &str,
    tags: &[String],
    visibility: Option<Visibility>,
) -> i64 {
    publish_numbered(r, (owner, name, digest), tags, visibility, None)
        .await
        .unwrap()
}

/// Publishes a version of `owner/name` with this digest, taking `number` when one is given.
pub async fn publish_numbered(
    r: &dyn Registry,
    (owner, name, digest): (&str, &str, &str),
    tags: &[String],
    visibility: Option<Visibility>,
    number: Option<i64>,
) -> feather_store::Result<i64> {
    let title = format!("The {name} model");
    let new = NewVersion {
        owner,
        name,
        title: &title,
        description: "",
        tags,
        manifest: r#"{"name": "m"}"#,
        digest,
        bundle_size: 10,
        bundle_files: 1,
        now: &feather_store::now(),
        number,
    };
    r.add_version(&new, visibility).await
}

/// The error's kind, for comparing with `matches!`.
pub fn err<T: std::fmt::Debug>(r: feather_store::Result<T>) -> StoreError {
    r.expect_err("an error")
}
