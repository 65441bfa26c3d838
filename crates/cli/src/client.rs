//! A client of a feather server: base URL, token, and the error shape decoded into a message.

use anyhow::{Context, bail};
use clap::Args;
use reqwest::{RequestBuilder, Response};
use serde_json::Value;

/// Which server to talk to, and as whom.
#[derive(Args, Clone)]
pub struct ServerArgs {
    /// The server's URL.
    #[arg(long, env = "FEATHER_SERVER", default_value = "http://127.0.0.1:7860")]
    pub server: String,
    /// An API token (from `feather token create`); needed to publish and delete.
    #[arg(long, env = "FEATHER_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

pub struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Client {
    pub fn new(a: &ServerArgs) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("feather-cli/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            base: a.server.trim_end_matches('/').to_owned(),
            token: a.token.clone(),
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.auth(self.http.get(self.url(path)))
    }

    pub fn post(&self, path: &str) -> RequestBuilder {
        self.auth(self.http.post(self.url(path)))
    }

    pub fn put(&self, path: &str) -> RequestBuilder {
        self.auth(self.http.put(self.url(path)))
    }

    pub fn patch(&self, path: &str) -> RequestBuilder {
        self.auth(self.http.patch(self.url(path)))
    }

    pub fn delete(&self, path: &str) -> RequestBuilder {
        self.auth(self.http.delete(self.url(path)))
    }

    fn auth(&self, r: RequestBuilder) -> RequestBuilder {
        match &self.token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }

    /// Sends a request; a non-2xx answer becomes an error carrying the server's message.
    pub async fn send(&self, r: RequestBuilder) -> anyhow::Result<Response> {
        let res = r
            .send()
            .await
            .with_context(|| format!("cannot reach the server at {}", self.base))?;
        if res.status().is_success() {
            return Ok(res);
        }
        let status = res.status();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        let err = &body["error"];
        let mut msg = format!(
            "{} ({status})",
            err["message"]
                .as_str()
                .unwrap_or("the server refused the request")
        );
        if let Some(problems) = err["details"]["problems"].as_array() {
            for p in problems {
                msg.push_str(&format!(
                    "\n  {}: {}",
                    p["path"].as_str().unwrap_or(""),
                    p["reason"].as_str().unwrap_or("")
                ));
            }
        }
        bail!(msg)
    }

    pub async fn json(&self, r: RequestBuilder) -> anyhow::Result<Value> {
        Ok(self.send(r).await?.json().await?)
    }
}
