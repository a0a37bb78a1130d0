//! `clouddb_instance_failover`: switches a high-availability instance to its standby
//! (`POST …/instances/{name}/failover`) and waits for the operation. An instance without
//! `high_availability` has no standby: the API refuses with 409 `FAILED_PRECONDITION`, reported
//! as an error saying what to change.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tfplugin::diag::{Diagnostic, Diagnostics};
use tfplugin::model::Field;
use tfplugin::provider::{Action, Context, Progress};
use tfplugin::schema::Schema;
use tfplugin::value::{AttributePath, Value};

use crate::client::instance_actions::InstanceAction;
use crate::client::{ApiError, Client};

/// The action's config: one field per schema attribute.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FailoverModel {
    pub instance: Field<String>,
}

/// The `clouddb_instance_failover` action type.
#[derive(Debug, Default)]
pub struct InstanceFailover;

/// Built once per process: every call looks attribute names up in it (errors name the attribute),
/// and rebuilding the schema per call would be wasted work.
static SCHEMA: std::sync::LazyLock<Schema> = std::sync::LazyLock::new(schema);

pub fn schema() -> Schema {
    Schema::new()
        .description(
            "Fails a high-availability CloudDB instance over to its standby and waits until the \
             operation finishes. Only instances with `high_availability = true` have a standby. \
             Run it with `terraform apply -invoke=action.clouddb_instance_failover.NAME`. Requires \
             Terraform 1.14 or later.",
        )
        .attribute(super::instance_attribute("fail over"))
}

/// The API's refusal of a failover on an instance without a standby, in terms of the
/// `clouddb_instance` setting that fixes it. A FAILED instance is refused with the same reason;
/// its own detail (kept below) says so.
fn refused(name: &str, e: &ApiError) -> Option<Diagnostics> {
    if e.reason() != "FAILED_PRECONDITION" {
        return None;
    }
    Some(
        Diagnostic::error(
            format!("Cannot fail over CloudDB instance {name:?}"),
            format!(
                "A failover needs a standby, which only an instance with high_availability = true \
                 has. Set high_availability = true on the instance (an in-place update) before \
                 invoking clouddb_instance_failover.\n\n{}",
                e.detail()
            ),
        )
        .at(AttributePath::attr("instance"))
        .into(),
    )
}

#[async_trait]
impl Action<Client> for InstanceFailover {
    fn type_name(&self) -> &'static str {
        "clouddb_instance_failover"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn invoke(
        &self,
        ctx: &Context,
        client: &Client,
        config: &Value,
        progress: &Progress,
    ) -> Result<(), Diagnostics> {
        let config: FailoverModel = config.to()?;
        let name = super::known_instance(config.instance.as_str(), "clouddb_instance_failover")?;
        super::run_instance_action(
            ctx,
            client,
            &SCHEMA,
            InstanceAction::Failover,
            &name,
            progress,
            |e| refused(&name, e),
        )
        .await
    }
}
