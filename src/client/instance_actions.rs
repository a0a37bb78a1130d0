//! Actions on an instance that change none of its settings: `POST /instances/{name}/restart` and
//! `…/failover`. The API answers each with an [`Operation`] (verb `restart` / `failover`) during
//! which the instance is busy; wait for it with [`super::wait::wait_operation`].

use reqwest::Method;

use super::types::Operation;
use super::{ApiError, Client, IdempotencyKey, encode_segment};

/// The instance actions of the API, by their path segment (also the operation's verb).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceAction {
    Restart,
    Failover,
}

impl InstanceAction {
    /// The path segment under the instance, and the verb of the operation it starts.
    pub fn verb(self) -> &'static str {
        match self {
            InstanceAction::Restart => "restart",
            InstanceAction::Failover => "failover",
        }
    }
}

impl Client {
    /// `POST /instances/{name}/restart` → the restart operation. Retried with the same key, so a
    /// lost answer never restarts twice.
    pub async fn restart_instance(
        &self,
        name: &str,
        key: &IdempotencyKey,
    ) -> Result<Operation, ApiError> {
        self.instance_action(InstanceAction::Restart, name, key)
            .await
    }

    /// `POST /instances/{name}/failover` → the failover operation. Only instances with
    /// `high_availability` have a standby; others answer 409 `FAILED_PRECONDITION`.
    pub async fn failover_instance(
        &self,
        name: &str,
        key: &IdempotencyKey,
    ) -> Result<Operation, ApiError> {
        self.instance_action(InstanceAction::Failover, name, key)
            .await
    }

    /// Starts `action` on instance `name` (no body: the actions take no parameters).
    pub async fn instance_action(
        &self,
        action: InstanceAction,
        name: &str,
        key: &IdempotencyKey,
    ) -> Result<Operation, ApiError> {
        let path = format!("/instances/{}/{}", encode_segment(name), action.verb());
        let reply = self
            .send(Method::POST, &path, &[], None, Some(key), None)
            .await?;
        self.decode_operation(&reply)
    }
}
