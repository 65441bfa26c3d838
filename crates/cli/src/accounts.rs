//! `feather user`, `feather token` and `feather audit`: on a data folder directly, as the
//! operator of the machine (this is how the first admin gets a token), or through a server's
//! API with a token.

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::bail;
use clap::{Args, Subcommand};
use feather_service::Actor;
use feather_service::accounts::{self, TokenRequest};
use feather_store::{Action, AuditQuery, Database, Role, Scope, Store, StoreError};
use serde_json::{Value, json};

use crate::client::{Client, ServerArgs};

/// Where to act: a data folder (the default, as its operator) or a server (`--server`).
#[derive(Args, Clone)]
pub struct Place {
    /// Act on this data folder directly, as the machine's operator; no token is needed
    /// [default: the user's data folder, unless --server is given].
    #[arg(long, env = "FEATHER_DATA")]
    data: Option<PathBuf>,
    /// With --data (or by default): where its registry is, `sqlite` or a postgres:// URL.
    #[arg(
        long,
        env = "FEATHER_DATABASE",
        default_value = "sqlite",
        hide_env_values = true
    )]
    database: Database,
    /// Act through this server's API instead, as the user of --token.
    #[arg(long, env = "FEATHER_SERVER")]
    server: Option<String>,
    /// The API token to act with on --server.
    #[arg(long, env = "FEATHER_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

enum At {
    Local(Store, Actor),
    Remote(Client),
}

impl Place {
    async fn open(&self) -> anyhow::Result<At> {
        match (&self.data, &self.server) {
            (None, Some(server)) => Ok(At::Remote(Client::new(&ServerArgs {
                server: server.clone(),
                token: self.token.clone(),
            })?)),
            (data, _) => {
                // Accounts are only in the registry: no blob is read or written here, wherever
                // the server keeps them.
                let place = crate::DataArg {
                    data: data.clone(),
                    database: self.database.clone(),
                    blobs: Default::default(),
                };
                let store =
                    Store::open(&place.resolve(), &place.places(), Default::default()).await?;
                Ok(At::Local(store, Actor::Operator(local_actor())))
            }
        }
    }
}

/// How the audit log names the operator at the machine: not a user name (those have no `:`).
/// The operator's name in the audit log: `local:<account>`.
pub fn local_actor() -> String {
    let who = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "operator".into());
    format!("local:{who}")
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user.
    Add {
        name: String,
        /// developer (publishes and runs their own models) or admin (manages everything).
        #[arg(long, default_value = "developer", value_parser = parse_role)]
        role: Role,
        #[command(flatten)]
        at: Place,
    },
    /// List users.
    Ls {
        #[command(flatten)]
        at: Place,
    },
    /// Change a user's role.
    Role {
        name: String,
        #[arg(value_parser = parse_role)]
        role: Role,
        #[command(flatten)]
        at: Place,
    },
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a token. It is printed once, on its own line; only its hash is kept. On a data
    /// folder a new user is created with --role.
    Create {
        /// Whose token [default: --token's user on a server; required on a data folder].
        #[arg(long)]
        user: Option<String>,
        /// The role of a user created here (data folder only).
        #[arg(long, default_value = "developer", value_parser = parse_role)]
        role: Role,
        /// What it may do: publish, run, admin, comma-separated [default: publish,run, plus
        /// admin for an admin on a data folder].
        #[arg(long, value_parser = parse_scopes)]
        scope: Option<BTreeSet<Scope>>,
        /// Days until it expires [default: never].
        #[arg(long)]
        expires_in_days: Option<u32>,
        /// A label to tell it apart, such as the machine it is for.
        #[arg(long)]
        label: Option<String>,
        #[command(flatten)]
        at: Place,
    },
    /// List tokens (never the tokens themselves).
    Ls {
        /// Only this user's [default: everyone's on a data folder, --token's user on a server].
        #[arg(long)]
        user: Option<String>,
        #[command(flatten)]
        at: Place,
    },
    /// Revoke a token by its id (from `feather token ls`); it stops working at once.
    Revoke {
        id: i64,
        #[command(flatten)]
        at: Place,
    },
}

/// `feather audit`: what was published, deleted, moved, shared, created and revoked, newest first.
#[derive(Args)]
pub struct AuditArgs {
    /// Only what this user did (`local:<account>` for the operator).
    #[arg(long)]
    actor: Option<String>,
    /// Only what concerned this user's models and tokens.
    #[arg(long)]
    owner: Option<String>,
    /// Only this action: model.publish, model.delete, version.delete, model.visibility,
    /// alias.set, alias.delete, grant.add, grant.remove, token.create, token.revoke,
    /// user.create, user.role.
    #[arg(long)]
    action: Option<String>,
    /// How many entries, 1 to 500.
    #[arg(long, default_value_t = 50)]
    limit: u32,
    /// Only entries older than this id, to page back.
    #[arg(long)]
    before: Option<i64>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    at: Place,
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).map_err(|e| e.to_string())
}

fn parse_scopes(s: &str) -> Result<BTreeSet<Scope>, String> {
    Scope::parse_list(s).map_err(|e| e.to_string())
}

fn to_value<T: serde::Serialize>(v: T) -> anyhow::Result<Value> {
    Ok(serde_json::to_value(v)?)
}

pub async fn user(c: UserCommand) -> anyhow::Result<()> {
    match c {
        UserCommand::Add { name, role, at } => {
            let u = match at.open().await? {
                At::Local(store, actor) => {
                    to_value(accounts::create_user(&store, &actor, &name, role).await?)?
                }
                At::Remote(c) => {
                    c.json(
                        c.post("/api/v1/users")
                            .json(&json!({"name": name, "role": role})),
                    )
                    .await?
                }
            };
            println!(
                "created {} ({})",
                u["name"].as_str().unwrap_or(""),
                role.as_str()
            );
        }
        UserCommand::Ls { at } => {
            let users = match at.open().await? {
                At::Local(store, actor) => to_value(accounts::users(&store, &actor).await?)?,
                At::Remote(c) => c.json(c.get("/api/v1/users")).await?["users"].take(),
            };
            for u in users.as_array().into_iter().flatten() {
                println!(
                    "{:<24} {:<10} since {}",
                    u["name"].as_str().unwrap_or(""),
                    u["role"].as_str().unwrap_or(""),
                    u["created_at"].as_str().unwrap_or("")
                );
            }
        }
        UserCommand::Role { name, role, at } => {
            match at.open().await? {
                At::Local(store, actor) => {
                    accounts::set_role(&store, &actor, &name, role).await?;
                }
                At::Remote(c) => {
                    c.json(
                        c.patch(&format!("/api/v1/users/{name}"))
                            .json(&json!({"role": role})),
                    )
                    .await?;
                }
            }
            println!("{name} is now {}", role.as_str());
        }
    }
    Ok(())
}

pub async fn token(c: TokenCommand) -> anyhow::Result<()> {
    match c {
        TokenCommand::Create {
            user,
            role,
            scope,
            expires_in_days,
            label,
            at,
        } => {
            let created = match at.open().await? {
                At::Local(store, actor) => {
                    let Some(user) = user else {
                        bail!("name the token's user with --user");
                    };
                    // The operator's shortcut: a token for a user who does not exist yet.
                    let role = match store.registry.user(&user).await {
                        Ok(u) => u.role,
                        Err(StoreError::NotFound(_)) => {
                            accounts::create_user(&store, &actor, &user, role)
                                .await?
                                .role
                        }
                        Err(e) => return Err(e.into()),
                    };
                    let scopes = scope.unwrap_or_else(|| {
                        let mut s = BTreeSet::from([Scope::Publish, Scope::Run]);
                        if role == Role::Admin {
                            s.insert(Scope::Admin);
                        }
                        s
                    });
                    let req = TokenRequest {
                        user: Some(user),
                        scopes,
                        expires_in_days,
                        label,
                    };
                    let (token, info) = accounts::create_token(&store, &actor, req).await?;
                    store.close().await;
                    let mut v = to_value(info)?;
                    v["token"] = json!(token);
                    v
                }
                At::Remote(c) => {
                    let scopes = scope.unwrap_or(BTreeSet::from([Scope::Publish, Scope::Run]));
                    c.json(c.post("/api/v1/tokens").json(&json!({
                        "user": user, "scopes": scopes,
                        "expires_in_days": expires_in_days, "label": label,
                    })))
                    .await?
                }
            };
            eprintln!(
                "Token {} for {} ({}{}). It is shown only this once; keep it secret:",
                created["id"],
                created["user"].as_str().unwrap_or(""),
                scopes_text(&created),
                match created["expires_at"].as_str() {
                    Some(e) => format!(", expires {e}"),
                    None => String::new(),
                }
            );
            println!("{}", created["token"].as_str().unwrap_or(""));
        }
        TokenCommand::Ls { user, at } => {
            let tokens = match at.open().await? {
                At::Local(store, actor) => {
                    to_value(accounts::tokens(&store, &actor, user.as_deref()).await?)?
                }
                At::Remote(c) => {
                    let q: Vec<(&str, String)> = user.map(|u| ("user", u)).into_iter().collect();
                    c.json(c.get("/api/v1/tokens").query(&q)).await?["tokens"].take()
                }
            };
            let now = feather_store::now();
            println!(
                "{:>5}  {:<16} {:<11} {:<20} {:<26} LABEL",
                "ID", "USER", "PREFIX", "SCOPES", "STATE"
            );
            for t in tokens.as_array().into_iter().flatten() {
                let state = match (t["revoked_at"].as_str(), t["expires_at"].as_str()) {
                    (Some(r), _) => format!("revoked {}", &r[..r.len().min(19)]),
                    (None, Some(e)) if e <= now.as_str() => {
                        format!("expired {}", &e[..e.len().min(19)])
                    }
                    (None, Some(e)) => format!("expires {}", &e[..e.len().min(19)]),
                    (None, None) => "active".into(),
                };
                println!(
                    "{:>5}  {:<16} {:<11} {:<20} {:<26} {}",
                    t["id"],
                    t["user"].as_str().unwrap_or(""),
                    t["prefix"].as_str().unwrap_or(""),
                    scopes_text(t),
                    state,
                    t["label"].as_str().unwrap_or("")
                );
            }
        }
        TokenCommand::Revoke { id, at } => {
            match at.open().await? {
                At::Local(store, actor) => {
                    accounts::revoke_token(&store, &actor, id).await?;
                }
                At::Remote(c) => {
                    c.json(c.delete(&format!("/api/v1/tokens/{id}"))).await?;
                }
            }
            println!("token {id} is revoked");
        }
    }
    Ok(())
}

fn scopes_text(t: &Value) -> String {
    t["scopes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join(",")
}

pub async fn audit(a: AuditArgs) -> anyhow::Result<()> {
    let page = match a.at.open().await? {
        At::Local(store, operator) => {
            let q = AuditQuery {
                actor: a.actor,
                owner: a.owner,
                action: a.action.as_deref().map(Action::parse).transpose()?,
                concerning: None,
                before: a.before,
                limit: a.limit,
            };
            to_value(accounts::audit(&store, &operator, q).await?)?
        }
        At::Remote(c) => {
            let q: Vec<(&str, String)> = [
                ("actor", a.actor),
                ("owner", a.owner),
                ("action", a.action),
                ("before", a.before.map(|b| b.to_string())),
                ("limit", Some(a.limit.to_string())),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect();
            c.json(c.get("/api/v1/audit").query(&q)).await?
        }
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&page)?);
        return Ok(());
    }
    let entries = page["entries"].as_array().cloned().unwrap_or_default();
    if entries.is_empty() {
        eprintln!("no entries");
    }
    for e in &entries {
        let details = match &e["details"] {
            Value::Object(m) if !m.is_empty() => Value::Object(m.clone()).to_string(),
            _ => String::new(),
        };
        println!(
            "{:>6}  {}  {:<18} {:<17} {:<32} {}",
            e["id"],
            e["at"]
                .as_str()
                .map(|t| &t[..t.len().min(19)])
                .unwrap_or(""),
            e["actor"].as_str().unwrap_or(""),
            e["action"].as_str().unwrap_or(""),
            e["target"].as_str().unwrap_or(""),
            details
        );
    }
    if let Some(b) = page["next_before"].as_i64() {
        eprintln!("older entries: --before {b}");
    }
    Ok(())
}
