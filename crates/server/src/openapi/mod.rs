//! The platform's OpenAPI document, generated from the handlers and the types they use.

pub mod schemas;

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::routes::{accounts, health, models, publish, runs, scoring, sharing};

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

/// The answers every route of a kind can give, whatever its handler does: written here once
/// rather than on each route, so that none is left out.
struct EveryAnswer;

/// Routes that run models: refused while no sandbox is available.
const RUNNING: [&str; 3] = [
    "/api/v1/models/{owner}/{name}/runs",
    "/api/v1/models/{owner}/{name}/predict",
    "/api/v1/runs/{id}/steps",
];

/// Routes under the rate limit: those that run models, and uploads for them.
fn rate_limited(path: &str) -> bool {
    RUNNING.contains(&path) || path == "/api/v1/files"
}

impl Modify for EveryAnswer {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        for (path, item) in doc.paths.paths.iter_mut() {
            if !path.starts_with("/api/") {
                continue;
            }
            let (running, limited) = (RUNNING.contains(&path.as_str()), rate_limited(path));
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in ops.into_iter().flatten() {
                add_common(op, running, limited);
            }
        }
    }
}

fn add_common(op: &mut Operation, running: bool, limited: bool) {
    let has_path_or_query = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
    let mut answers: Vec<(&str, &str)> = vec![
        (
            "401",
            "a token was sent and is not valid (or the route needs one)",
        ),
        ("500", "an internal error; the server log has the details"),
    ];
    if has_path_or_query || op.request_body.is_some() {
        answers.push(("400", "a path, query or body that does not parse"));
    }
    if op.request_body.is_some() {
        answers.push(("413", "the body is over its limit"));
        answers.push(("415", "the body's content type is not one this route reads"));
    }
    if limited {
        answers.push((
            "429",
            "over the rate limit: try again after `retry-after` seconds",
        ));
    }
    if running {
        answers.push((
            "503",
            "no sandbox is available on this server, so no model runs",
        ));
    }
    for (status, description) in answers {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| error_response(description));
    }
}

fn error_response(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build(),
    )
}

#[derive(OpenApi)]
#[openapi(
    info(title = "feather", description = "Share and deploy machine-learning models."),
    paths(
        publish::publish, models::search, models::show, models::delete_model, models::versions,
        models::version, models::bundle, models::delete_version, runs::environment, scoring::invocations, runs::start, runs::answer, runs::show,
        runs::predict, runs::upload, runs::file, models::openapi, models::me, models::bundle_file, health::healthz, health::readyz, health::metrics,
        sharing::change, sharing::grants, sharing::grant, sharing::ungrant, sharing::set_alias, sharing::delete_alias,
        accounts::create_token, accounts::list_tokens, accounts::revoke_token, accounts::list_users,
        accounts::create_user, accounts::set_role, accounts::audit
    ),
    components(schemas(schemas::StepInputs, schemas::StepForm, schemas::AuditAction)),
    nest(),
    modifiers(&TokenAuth, &EveryAnswer),
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
