//! `clouddb_instance_restart`: restarts an instance (`POST …/instances/{name}/restart`) and waits
//! until its operation finishes, sending progress while it runs. None of the instance's settings
//! change, so a plan after it is empty.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tfplugin::diag::Diagnostics;
use tfplugin::model::Field;
use tfplugin::provider::{Action, Context, Progress};
use tfplugin::schema::Schema;
use tfplugin::value::Value;

use crate::client::Client;
use crate::client::instance_actions::InstanceAction;

/// The action's config: one field per schema attribute.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RestartModel {
    pub instance: Field<String>,
}

/// The `clouddb_instance_restart` action type.
#[derive(Debug, Default)]
pub struct InstanceRestart;

/// Built once per process: every call looks attribute names up in it (errors name the attribute),
/// and rebuilding the schema per call would be wasted work.
static SCHEMA: std::sync::LazyLock<Schema> = std::sync::LazyLock::new(schema);

pub fn schema() -> Schema {
    Schema::new()
        .description(
            "Restarts a CloudDB instance and waits until it is back (`READY`). The instance's \
             settings do not change, so nothing in Terraform state does either. Run it with \
             `terraform apply -invoke=action.clouddb_instance_restart.NAME` or from a resource's \
             `action_trigger`. Requires Terraform 1.14 or later.",
        )
        .attribute(super::instance_attribute("restart"))
}

#[async_trait]
impl Action<Client> for InstanceRestart {
    fn type_name(&self) -> &'static str {
        "clouddb_instance_restart"
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
        let config: RestartModel = config.to()?;
        let name = super::known_instance(config.instance.as_str(), "clouddb_instance_restart")?;
        super::run_instance_action(
            ctx,
            client,
            &SCHEMA,
            InstanceAction::Restart,
            &name,
            progress,
            |_| None,
        )
        .await
    }
}
