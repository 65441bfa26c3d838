//! Rate limits on running models and uploading files: per user (all of a user's tokens
//! together), and per client address for anonymous callers.
//! Past a limit the answer is 429 with `Retry-After`; nothing reaches a worker.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::auth::User;
use crate::error::ApiError;
use crate::state::AppState;

/// Requests per minute; 0 turns a limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateConfig {
    /// For each client address calling without a token.
    pub anonymous_per_minute: u32,
    /// For each token.
    pub token_per_minute: u32,
}

impl Default for RateConfig {
    fn default() -> Self {
        Self {
            anonymous_per_minute: 600,
            token_per_minute: 6000,
        }
    }
}

/// The limiters of one server.
#[derive(Debug, Default)]
pub struct RateLimits {
    anonymous: Option<DefaultKeyedRateLimiter<IpAddr>>,
    /// Keyed by user: a user's tokens share one budget, so making more tokens buys no more.
    users: Option<DefaultKeyedRateLimiter<String>>,
}

impl RateLimits {
    pub fn new(c: RateConfig) -> Self {
        let quota = |n: u32| NonZeroU32::new(n).map(|n| Quota::per_minute(n).allow_burst(n));
        Self {
            anonymous: quota(c.anonymous_per_minute).map(RateLimiter::keyed),
            users: quota(c.token_per_minute).map(RateLimiter::keyed),
        }
    }
}

impl RateLimits {
    /// Drops the keys whose budget is full again, so that addresses and tokens seen once (or
    /// made up) do not pile up in memory.
    pub fn forget_idle(&self) {
        if let Some(l) = &self.anonymous {
            l.retain_recent();
            l.shrink_to_fit();
        }
        if let Some(l) = &self.users {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }
}

/// The middleware of the run routes. A token is checked here (an unknown, revoked or expired
/// one gets 401 before anything else), and the caller it names is kept for the handler.
pub async fn limit(State(s): State<AppState>, mut req: Request, next: Next) -> Response {
    let limits: &Arc<RateLimits> = &s.rates;
    let user = if req.headers().contains_key(AUTHORIZATION) {
        let (mut parts, body) = req.into_parts();
        let user = match User::from_request_parts(&mut parts, &s).await {
            Ok(u) => u,
            Err(e) => return e.into_response(),
        };
        req = Request::from_parts(parts, body);
        req.extensions_mut().insert(user.clone());
        Some(user)
    } else {
        None
    };
    let verdict = match &user {
        Some(u) => limits
            .users
            .as_ref()
            .map(|l| l.check_key(&u.name().to_owned())),
        None => limits
            .anonymous
            .as_ref()
            .map(|l| l.check_key(&crate::extract::client_ip(req.extensions()))),
    };
    match verdict {
        Some(Err(not_until)) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let mut res = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "too many requests {}; try again in {secs} s",
                    if user.is_some() {
                        "by this token's user"
                    } else {
                        "from this address without a token"
                    }
                ),
            )
            .into_response();
            res.headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(secs.max(1)));
            res
        }
        _ => next.run(req).await,
    }
}
