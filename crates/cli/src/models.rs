//! `feather models`: list, show and pull what a server holds.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use serde_json::Value;

use crate::client::{Client, ServerArgs};

#[derive(Subcommand)]
pub enum ModelsCommand {
    /// List models, newest first.
    Ls {
        /// Words to find in owner, name, title or description.
        #[arg(short, long)]
        query: Option<String>,
        /// Only models with this tag.
        #[arg(long)]
        tag: Option<String>,
        /// Only this owner's models.
        #[arg(long)]
        owner: Option<String>,
        /// Print the server's JSON instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Show a model and its versions, or one version's manifest: OWNER/NAME or OWNER/NAME@REF
    /// (REF: a version number or an alias such as latest).
    Show {
        model: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Download a version's manifest, bundle and version.json into a folder that `feather
    /// publish` accepts and `ftr.load` runs, the bundle checked against the version's digest:
    /// OWNER/NAME[@REF].
    Pull {
        model: String,
        /// The folder to write into [default: NAME-VERSION].
        #[arg(short, long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Delete a model with all its versions (OWNER/NAME), or one version (OWNER/NAME@N).
    Rm {
        model: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Point an alias (such as prod) at a version: OWNER/NAME ALIAS VERSION.
    Alias {
        model: String,
        alias: String,
        #[arg(value_name = "VERSION")]
        number: i64,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Remove an alias: OWNER/NAME ALIAS.
    Unalias {
        model: String,
        alias: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Make a model public or private (seen and run only by its owner, grantees and admins).
    Visibility {
        model: String,
        #[arg(value_parser = ["public", "private"])]
        visibility: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Share a private model with a user: OWNER/NAME USER.
    Grant {
        model: String,
        user: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Stop sharing a model with a user: OWNER/NAME USER.
    Ungrant {
        model: String,
        user: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// List the users a model is shared with.
    Grants {
        model: String,
        #[command(flatten)]
        server: ServerArgs,
    },
}

/// Splits `owner/name`, refusing a reference.
fn parse_model(s: &str) -> anyhow::Result<(&str, &str)> {
    match parse_ref(s)? {
        (owner, name, None) => Ok((owner, name)),
        _ => anyhow::bail!("{s:?}: name the model as OWNER/NAME, without @"),
    }
}

/// Splits `owner/name@ref`.
pub(crate) fn parse_ref(s: &str) -> anyhow::Result<(&str, &str, Option<&str>)> {
    let (model, reference) = match s.split_once('@') {
        Some((m, r)) => (m, Some(r)),
        None => (s, None),
    };
    let (owner, name) = model
        .split_once('/')
        .with_context(|| format!("{s:?} is not OWNER/NAME[@REF]"))?;
    Ok((owner, name, reference))
}

pub async fn run(c: ModelsCommand) -> anyhow::Result<()> {
    match c {
        ModelsCommand::Ls {
            query,
            tag,
            owner,
            json,
            server,
        } => {
            let client = Client::new(&server)?;
            let params: Vec<(&str, String)> = [("q", query), ("tag", tag), ("owner", owner)]
                .into_iter()
                .filter_map(|(k, v)| v.map(|v| (k, v)))
                .chain([("per_page", "100".to_owned())])
                .collect();
            let page = client
                .json(client.get("/api/v1/models").query(&params))
                .await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&page)?);
                return Ok(());
            }
            let models = page["models"].as_array().cloned().unwrap_or_default();
            if models.is_empty() {
                eprintln!("no models");
            }
            for m in models {
                let tags: Vec<&str> = m["tags"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                println!(
                    "{:<32} v{:<4} {}{}",
                    format!(
                        "{}/{}",
                        m["owner"].as_str().unwrap_or(""),
                        m["name"].as_str().unwrap_or("")
                    ),
                    m["latest_version"],
                    m["title"].as_str().unwrap_or(""),
                    if tags.is_empty() {
                        String::new()
                    } else {
                        format!("  [{}]", tags.join(", "))
                    }
                );
            }
        }
        ModelsCommand::Show { model, server } => {
            let client = Client::new(&server)?;
            let (owner, name, reference) = parse_ref(&model)?;
            let out = match reference {
                Some(r) => {
                    client
                        .json(client.get(&format!("/api/v1/models/{owner}/{name}/versions/{r}")))
                        .await?
                }
                None => {
                    let mut m = client
                        .json(client.get(&format!("/api/v1/models/{owner}/{name}")))
                        .await?;
                    let v = client
                        .json(client.get(&format!("/api/v1/models/{owner}/{name}/versions")))
                        .await?;
                    m["versions"] = v["versions"].clone();
                    m
                }
            };
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        ModelsCommand::Pull { model, out, server } => {
            let client = Client::new(&server)?;
            crate::pull::pull(&client, parse_ref(&model)?, out).await?;
        }
        ModelsCommand::Rm { model, server } => {
            let client = Client::new(&server)?;
            let (owner, name, reference) = parse_ref(&model)?;
            let path = match reference {
                Some(v) => format!("/api/v1/models/{owner}/{name}/versions/{v}"),
                None => format!("/api/v1/models/{owner}/{name}"),
            };
            client.send(client.delete(&path)).await?;
            println!("deleted {model}");
        }
        ModelsCommand::Alias {
            model,
            alias,
            number: version,
            server,
        } => {
            let client = Client::new(&server)?;
            let (owner, name) = parse_model(&model)?;
            let r = client
                .json(
                    client
                        .put(&format!("/api/v1/models/{owner}/{name}/aliases/{alias}"))
                        .json(&serde_json::json!({ "version": version })),
                )
                .await?;
            match r["previous"].as_i64() {
                Some(p) if p != version => {
                    println!("{model}@{alias} -> version {version} (was {p})")
                }
                _ => println!("{model}@{alias} -> version {version}"),
            }
        }
        ModelsCommand::Unalias {
            model,
            alias,
            server,
        } => {
            let client = Client::new(&server)?;
            let (owner, name) = parse_model(&model)?;
            client
                .send(client.delete(&format!("/api/v1/models/{owner}/{name}/aliases/{alias}")))
                .await?;
            println!("removed {model}@{alias}");
        }
        ModelsCommand::Visibility {
            model,
            visibility,
            server,
        } => {
            let client = Client::new(&server)?;
            let (owner, name) = parse_model(&model)?;
            client
                .json(
                    client
                        .patch(&format!("/api/v1/models/{owner}/{name}"))
                        .json(&serde_json::json!({ "visibility": visibility })),
                )
                .await?;
            println!("{model} is {visibility}");
        }
        ModelsCommand::Grant {
            model,
            user,
            server,
        } => {
            let client = Client::new(&server)?;
            let (owner, name) = parse_model(&model)?;
            client
                .send(client.put(&format!("/api/v1/models/{owner}/{name}/grants/{user}")))
                .await?;
            println!("{user} may now see and run {model}");
        }
        ModelsCommand::Ungrant {
            model,
            user,
            server,
        } => {
            let client = Client::new(&server)?;
            let (owner, name) = parse_model(&model)?;
            client
                .send(client.delete(&format!("/api/v1/models/{owner}/{name}/grants/{user}")))
                .await?;
            println!("{user} no longer has a grant of {model}");
        }
        ModelsCommand::Grants { model, server } => {
            let client = Client::new(&server)?;
            let (owner, name) = parse_model(&model)?;
            let r = client
                .json(client.get(&format!("/api/v1/models/{owner}/{name}/grants")))
                .await?;
            let grants = r["grants"].as_array().cloned().unwrap_or_default();
            if grants.is_empty() {
                eprintln!("{model} is shared with nobody");
            }
            for g in grants {
                println!(
                    "{:<24} granted by {} at {}",
                    g["user"].as_str().unwrap_or(""),
                    g["granted_by"].as_str().unwrap_or(""),
                    g["created_at"].as_str().unwrap_or("")
                );
            }
        }
    }
    Ok(())
}
