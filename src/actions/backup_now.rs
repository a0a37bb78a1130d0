//! `clouddb_backup_now`: takes an on-demand backup of an instance (`POST …/instances/{name}/backups`,
//! synchronous) outside Terraform state. Meant for
//! `lifecycle { action_trigger { events = [before_update]  actions = [action.clouddb_backup_now.x] } }`
//! on a `clouddb_instance`, so every change of the instance is preceded by a backup; the backups
//! it takes are not managed by Terraform (list them with the `clouddb_backups` data source).
//!
//! A busy instance (an update or restart running) is waited out as the resources do
//! (`while_busy`). A create whose answer was lost is looked up by its `creation_token`, so a
//! backup that was taken is reported as taken, not as an error.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tfplugin::diag::{Diagnostic, Diagnostics};
use tfplugin::model::Field;
use tfplugin::provider::{Action, Context, Progress};
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::Value;
use tokio::time::Instant;

use crate::client::backups::{BackupRecord, CreateBackupRequest};
use crate::client::{ApiError, Client, IdempotencyKey};
use crate::resources::common::{api_diags, valid_name, while_busy};

/// The action's config: one field per schema attribute.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BackupNowModel {
    pub instance: Field<String>,
    pub name: Field<String>,
    pub description: Field<String>,
}

/// The `clouddb_backup_now` action type.
#[derive(Debug, Default)]
pub struct BackupNow;

/// Built once per process: every call looks attribute names up in it (errors name the attribute),
/// and rebuilding the schema per call would be wasted work.
static SCHEMA: std::sync::LazyLock<Schema> = std::sync::LazyLock::new(schema);

pub fn schema() -> Schema {
    Schema::new()
        .description(
            "Takes an on-demand backup of a CloudDB instance now. The backup is not managed by \
             Terraform (it is not in state and outlives the instance); delete it through the API \
             when it is no longer needed. Use it in an instance's `lifecycle { action_trigger { \
             events = [before_update] … } }` to back up before every change, or run it with \
             `terraform apply -invoke=action.clouddb_backup_now.NAME`. Requires Terraform 1.14 or \
             later.",
        )
        .attribute(super::instance_attribute("back up"))
        .attribute(
            Attribute::string("name")
                .optional()
                .validate_with("3-63 of a-z, 0-9 and '-', starting with a letter, not ending with '-'", |p, v, d| {
                    if let Some(s) = v.as_str()
                        && !valid_name(s)
                    {
                        d.attribute_error(
                            p.clone(),
                            "Invalid backup name",
                            format!(
                                "{:?} is not a valid backup name: use 3 to 63 lowercase letters, \
                                 digits and hyphens, starting with a letter and not ending with a hyphen.",
                                s.chars().take(80).collect::<String>()
                            ),
                        );
                    }
                })
                .description(
                    "Name of the backup; unique in the project. Default: a name the API generates, \
                     which suits an action that runs on every update (a fixed name can be taken \
                     only once).",
                ),
        )
        .attribute(
            Attribute::string("description")
                .optional()
                .description("Free-text description stored with the backup."),
        )
}

/// The create POST failed so that it may still have happened (a lost answer): the backup with
/// this request's key as `creation_token`, if the API took it.
async fn find_taken(
    client: &Client,
    instance: &str,
    key: &IdempotencyKey,
) -> Result<Option<BackupRecord>, ApiError> {
    let all = client.list_backups(Some(instance)).await?;
    Ok(all
        .into_iter()
        .find(|b| !b.creation_token.is_empty() && b.creation_token == key.as_str()))
}

#[async_trait]
impl Action<Client> for BackupNow {
    fn type_name(&self) -> &'static str {
        "clouddb_backup_now"
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
        let config: BackupNowModel = config.to()?;
        let instance = super::known_instance(config.instance.as_str(), "clouddb_backup_now")?;
        let summary = format!("Cannot back up CloudDB instance {instance:?}");
        let started = Instant::now();
        let deadline = started + super::ACTION_TIMEOUT;
        let client = client.with_stop(ctx).with_deadline(deadline);
        let body = CreateBackupRequest {
            name: config.name.as_str().map(str::to_string),
            description: config.description.as_str().map(str::to_string),
        };
        // One key for every attempt, so a retried or re-sent request takes one backup.
        let key = IdempotencyKey::new();
        progress
            .send(format!("backup of {instance}: starting"))
            .await;
        let mut attempts = 0u32;
        let taken = while_busy(ctx, &client, deadline, "backup", || {
            attempts += 1;
            let (client, instance, body, key) = (&client, &instance, &body, &key);
            let again = attempts > 1;
            async move {
                if again {
                    progress
                        .send(format!(
                            "backup of {instance}: instance busy, waiting ({}s)",
                            started.elapsed().as_secs()
                        ))
                        .await;
                }
                client.create_backup(instance, body, key).await
            }
        })
        .await;
        let backup = match taken {
            Ok(b) => b,
            Err(e) if e.outcome_unknown() => {
                // Finding out must survive what made the answer get lost, Ctrl-C included.
                let lookup = client.for_lookup();
                match find_taken(&lookup, &instance, &key).await {
                    Ok(Some(b)) => b,
                    Ok(None) => return Err(api_diags(&SCHEMA, &summary, &e)),
                    Err(lookup_err) => {
                        let mut d = api_diags(&SCHEMA, &summary, &e);
                        d.push(Diagnostic::error(
                            "Cannot tell whether the backup was taken",
                            format!(
                                "Listing the backups of {instance:?} after the failed request also \
                                 failed: {}. A backup whose creation_token is {} may exist.",
                                lookup_err.detail(),
                                key.as_str()
                            ),
                        ));
                        return Err(d);
                    }
                }
            }
            Err(e) => return Err(api_diags(&SCHEMA, &summary, &e)),
        };
        progress
            .send(format!(
                "backup of {instance}: {} taken ({} bytes, {}s)",
                backup.name,
                backup.size_bytes,
                started.elapsed().as_secs()
            ))
            .await;
        Ok(())
    }
}
