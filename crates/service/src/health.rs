//! Whether this server can take requests: what a load balancer or an orchestrator asks before
//! sending it any.

use std::time::Duration;

use crate::{Code, Result, Service, ServiceError};

/// How long each of the store's parts may take to answer before the server counts as not
/// ready: a probe must answer well within its own timeout.
const ANSWER_WITHIN: Duration = Duration::from_secs(2);

/// Ready when the registry and the blob store answer now and models can run contained (or the
/// operator chose to run them bare); otherwise why not.
pub async fn ready(s: &Service) -> Result<()> {
    let not_ready = |what: String| ServiceError::new(Code::NotReady, what);
    if let Err(reason) = &s.runner.sandbox {
        return Err(not_ready(format!("no model can run: {reason}")));
    }
    match tokio::time::timeout(ANSWER_WITHIN, s.store.registry.ping()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(not_ready(format!("the registry does not answer: {e}"))),
        Err(_) => {
            return Err(not_ready(format!(
                "the registry did not answer within {ANSWER_WITHIN:?}"
            )));
        }
    }
    match tokio::time::timeout(ANSWER_WITHIN, s.store.blobs.check()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(not_ready(format!("the blob store does not answer: {e}"))),
        Err(_) => Err(not_ready(format!(
            "the blob store did not answer within {ANSWER_WITHIN:?}"
        ))),
    }
}
