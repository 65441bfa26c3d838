//! The platform's OpenAPI document, generated from the handlers and the types they use.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{accounts, health, models, publish, runs, sharing};

/// The bearer-token scheme the write routes use.
struct TokenAuth;

impl Modify for TokenAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A token from `feather token create`."))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "feather", description = "Share and deploy machine-learning models."),
    paths(
        publish::publish, models::search, models::show, models::delete_model, models::versions,
        models::version, models::bundle, models::delete_version, runs::environment, runs::start, runs::answer, runs::show,
        runs::predict, runs::upload, runs::file, models::openapi, models::me, models::bundle_file, health::healthz,
        sharing::change, sharing::grants, sharing::grant, sharing::ungrant, sharing::set_alias, sharing::delete_alias,
        accounts::create_token, accounts::list_tokens, accounts::revoke_token, accounts::list_users,
        accounts::create_user, accounts::set_role, accounts::audit
    ),
    nest(),
    modifiers(&TokenAuth),
    tags((name = "models", description = "Publish, find and manage models and their versions"),
         (name = "accounts", description = "Users, tokens and the audit log"),
         (name = "runs", description = "Run models: one call, or step by step with a person in between"),
         (name = "ops", description = "Operations"))
)]
struct PlatformDoc;

/// The whole document: routes plus the manifest's types.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = PlatformDoc::openapi();
    doc.merge(feather_spec::schema::SpecDoc::openapi());
    doc
}
