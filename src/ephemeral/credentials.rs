//! `clouddb_credentials`: a temporary database login of an instance, for as long as one Terraform
//! command needs it.
//!
//! Open asks the API for a credential valid for `ttl` (`POST …/credentials`) and returns its
//! username, password (sensitive) and expiry, with a `renew_at` two thirds into its lifetime, so
//! Terraform calls Renew (`POST …/credentials/{id}/renew`) well before it lapses for as long as the
//! command runs. Close revokes it (`DELETE …/credentials/{id}`) — also after a Ctrl-C, which is why
//! it ignores the stop signal (bounded by its own deadline). If Terraform never calls Close (a
//! crash), the credential still expires on its own at `expires_at`.
//!
//! Nothing of it reaches state or plan files (Terraform keeps ephemeral values in memory), and the
//! private data handed back to Renew and Close holds the credential's id, never its password.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tfplugin::diag::{Diagnostic, Diagnostics};
use tfplugin::model::Field;
use tfplugin::provider::{Context, EphemeralResource, OpenResult, PrivateState, RenewResult};
use tfplugin::schema::timeouts::parse_duration;
use tfplugin::schema::{Attribute, Schema};
use tfplugin::value::{AttributePath, Value};
use tokio::time::Instant;

use crate::client::Client;
use crate::client::credentials::IssuedCredential;
use crate::resources::common::{api_diags, while_busy};
use crate::resources::instance::valid_name;

/// The lifetime when `ttl` is not set.
pub const DEFAULT_TTL: Duration = Duration::from_secs(15 * 60);
/// The lifetimes the API accepts.
pub const MIN_TTL: Duration = Duration::from_secs(5);
pub const MAX_TTL: Duration = Duration::from_secs(24 * 3600);
/// How long Open waits for a busy instance (an update or restart running) before giving up.
const BUSY_WAIT: Duration = Duration::from_secs(5 * 60);
/// How long Close keeps trying to revoke (it runs even after Ctrl-C).
const CLOSE_DEADLINE: Duration = Duration::from_secs(60);

/// Private-state keys (the credential, never its password).
const PRIVATE_INSTANCE: &str = "instance";
const PRIVATE_ID: &str = "id";
const PRIVATE_TTL: &str = "ttl_seconds";
const PRIVATE_EXPIRES: &str = "expires_at";

/// The `clouddb_credentials` model: one field per schema attribute.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CredentialsModel {
    pub instance: Field<String>,
    pub ttl: Field<String>,
    pub id: Field<String>,
    pub username: Field<String>,
    pub password: Field<String>,
    pub expires_at: Field<String>,
}

/// The ephemeral resource type.
#[derive(Debug, Default)]
pub struct Credentials;

/// `ttl` in whole seconds, or why it is not an acceptable lifetime.
pub fn ttl_seconds(ttl: Option<&str>) -> Result<i64, String> {
    let Some(s) = ttl else {
        return Ok(DEFAULT_TTL.as_secs() as i64);
    };
    let d = parse_duration(s).map_err(|e| e.to_string())?;
    if d.subsec_nanos() != 0 {
        return Err(format!("ttl must be whole seconds, got {s:?}"));
    }
    if !(MIN_TTL..=MAX_TTL).contains(&d) {
        return Err(format!(
            "ttl must be between {}s and {}h, got {s:?}",
            MIN_TTL.as_secs(),
            MAX_TTL.as_secs() / 3600
        ));
    }
    i64::try_from(d.as_secs()).map_err(|_| format!("ttl {s:?} is too large"))
}

/// When to renew a credential that lives `ttl_seconds` from now: two thirds into its life, which
/// leaves a third of it for the renew call to get through retries.
pub fn renew_after(ttl_seconds: i64) -> Duration {
    let secs = u64::try_from(ttl_seconds).unwrap_or(0);
    Duration::from_millis(secs.saturating_mul(2000) / 3).max(Duration::from_secs(1))
}

fn schema() -> Schema {
    Schema::new()
        .description(
            "A temporary database login of a CloudDB instance, valid for `ttl`. Terraform creates it \
             when it needs the value, renews it while the command runs and revokes it at the end; it \
             is never stored in state or plan files. Use the password in write-only arguments (such as \
             `clouddb_user.password_wo`) or in provider configurations. Requires Terraform 1.10 or later.",
        )
        .attribute(
            Attribute::string("instance")
                .required()
                .validate_with("an instance name", |p, v, d| {
                    if let Some(s) = v.as_str()
                        && !valid_name(s)
                    {
                        d.attribute_error(
                            p.clone(),
                            "Invalid instance name",
                            format!(
                                "{s:?} is not a valid instance name: 3 to 63 lowercase letters, \
                                 digits and hyphens, starting with a letter and not ending with a hyphen."
                            ),
                        );
                    }
                })
                .description(
                    "Name of the instance the login is for. Reference `clouddb_instance.NAME.id` (known \
                     once the instance exists) rather than `.name`, so that Terraform opens the login \
                     after creating the instance instead of during the plan.",
                ),
        )
        .attribute(
            Attribute::string("ttl")
                .optional()
                .validate_with("a whole-second duration from 5s to 24h", |p, v, d| {
                    if let Some(s) = v.as_str()
                        && let Err(why) = ttl_seconds(Some(s))
                    {
                        d.attribute_error(p.clone(), "Invalid ttl", why);
                    }
                })
                .description(
                    "How long the login stays valid without a renewal, as a duration from `\"5s\"` to \
                     `\"24h\"` in whole seconds (default `\"15m\"`). Terraform renews it while it still \
                     needs it, so a long apply does not outlive it.",
                ),
        )
        .attribute(Attribute::string("id").computed().description("The credential's id."))
        .attribute(
            Attribute::string("username")
                .computed()
                .description("The login's user name."),
        )
        .attribute(
            Attribute::string("password")
                .computed()
                .sensitive()
                .description("The login's password."),
        )
        .attribute(
            Attribute::string("expires_at")
                .computed()
                .description(
                    "When the login expires unless renewed (RFC 3339, the API's clock), as of the open.",
                ),
        )
}

fn private(instance: &str, c: &crate::client::credentials::Credential) -> PrivateState {
    let mut p = PrivateState::new();
    p.set(PRIVATE_INSTANCE, &instance);
    p.set(PRIVATE_ID, &c.id);
    p.set(PRIVATE_TTL, &c.ttl_seconds);
    p.set(PRIVATE_EXPIRES, &c.expires_at);
    p
}

/// The credential named by private data, or an error saying the data is unusable.
fn from_private(p: &PrivateState) -> Result<(String, String, i64), Diagnostics> {
    match (
        p.get::<String>(PRIVATE_INSTANCE),
        p.get::<String>(PRIVATE_ID),
        p.get::<i64>(PRIVATE_TTL),
    ) {
        (Some(i), Some(id), Some(ttl)) => Ok((i, id, ttl)),
        _ => Err(Diagnostic::error(
            "Unusable clouddb_credentials private data",
            "Terraform handed back private data without the credential's instance, id and ttl.",
        )
        .into()),
    }
}

#[async_trait]
impl EphemeralResource<Client> for Credentials {
    fn type_name(&self) -> &'static str {
        "clouddb_credentials"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn open(
        &self,
        ctx: &Context,
        client: &Client,
        config: &Value,
    ) -> Result<OpenResult, Diagnostics> {
        let mut model: CredentialsModel = config.to()?;
        let Some(instance) = model.instance.known().cloned() else {
            return Err(Diagnostic::error(
                "Missing instance",
                "clouddb_credentials needs the name of an instance.",
            )
            .at(AttributePath::attr("instance"))
            .into());
        };
        let ttl = ttl_seconds(model.ttl.as_str()).map_err(|why| {
            Diagnostics::from(Diagnostic::error("Invalid ttl", why).at(AttributePath::attr("ttl")))
        })?;
        let api = client.with_stop(ctx);
        let deadline = Instant::now() + BUSY_WAIT;
        let issued: IssuedCredential = while_busy(ctx, &api, deadline, "open credentials", || {
            api.issue_credential(&instance, ttl)
        })
        .await
        .map_err(|e| {
            let mut d = api_diags(
                &schema(),
                &format!("Could not create credentials for instance {instance}"),
                &e,
            );
            if e.is_not_found() {
                // The common cause: a name known at plan time for an instance this apply creates.
                d.attribute_error(
                    AttributePath::attr("instance"),
                    "No such instance",
                    format!(
                        "Instance {instance} does not exist (yet). If this configuration creates it, set \
                         `instance = clouddb_instance.NAME.id`: the id is known only once the instance \
                         exists, so Terraform opens the credentials after creating it."
                    ),
                );
            }
            d
        })?;
        let c = &issued.credential;
        tracing::info!(instance = %instance, credential = %c.id, expires_at = %c.expires_at, "credentials opened");
        model.id = Field::Known(c.id.clone());
        model.username = Field::Known(c.username.clone());
        model.password = Field::Known(issued.password.expose().to_string());
        model.expires_at = Field::Known(c.expires_at.clone());
        Ok(OpenResult {
            result: Value::from_model(&model)?,
            private: private(&instance, c),
            renew_at: Some(SystemTime::now() + renew_after(c.ttl_seconds)),
            diagnostics: Diagnostics::new(),
        })
    }

    async fn renew(
        &self,
        ctx: &Context,
        client: &Client,
        private_state: PrivateState,
    ) -> Result<RenewResult, Diagnostics> {
        let (instance, id, ttl) = from_private(&private_state)?;
        let renewed = client
            .with_stop(ctx)
            .renew_credential(&instance, &id, ttl)
            .await
            .map_err(|e| {
                let mut d = api_diags(
                    &schema(),
                    &format!("Could not renew credentials {id} of instance {instance}"),
                    &e,
                );
                if e.is_not_found() {
                    d.error(
                        "The credentials are gone",
                        "They were revoked or expired before Terraform renewed them; a longer `ttl` \
                         gives the renewal more room.",
                    );
                }
                d
            })?;
        tracing::info!(instance = %instance, credential = %id, expires_at = %renewed.expires_at, "credentials renewed");
        Ok(RenewResult {
            private: private(&instance, &renewed),
            renew_at: Some(SystemTime::now() + renew_after(renewed.ttl_seconds)),
            diagnostics: Diagnostics::new(),
        })
    }

    async fn close(
        &self,
        _ctx: &Context,
        client: &Client,
        private_state: PrivateState,
    ) -> Result<(), Diagnostics> {
        let (instance, id, _) = from_private(&private_state)?;
        let expires = private_state
            .get::<String>(PRIVATE_EXPIRES)
            .unwrap_or_else(|| "its expiry".into());
        // Revoked even when Terraform was interrupted: a login must not outlive the command
        // because of a Ctrl-C. The deadline bounds the retries instead.
        client
            .without_stop()
            .with_deadline(Instant::now() + CLOSE_DEADLINE)
            .revoke_credential(&instance, &id)
            .await
            .map_err(|e| {
                let mut d = api_diags(
                    &schema(),
                    &format!("Could not revoke credentials {id} of instance {instance}"),
                    &e,
                );
                d.error(
                    "The credentials stay valid",
                    format!("They remain usable until {expires} (or until revoked with DELETE …/credentials/{id})."),
                );
                d
            })?;
        tracing::info!(instance = %instance, credential = %id, "credentials revoked");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_are_whole_seconds_within_the_api_bounds() {
        assert_eq!(ttl_seconds(None), Ok(900));
        assert_eq!(ttl_seconds(Some("15m")), Ok(900));
        assert_eq!(ttl_seconds(Some("5s")), Ok(5));
        assert_eq!(ttl_seconds(Some("24h")), Ok(86_400));
        for bad in ["4s", "25h", "1.5s", "500ms", "soon", "", "0"] {
            let why = ttl_seconds(Some(bad)).expect_err(bad);
            assert!(
                why.contains("ttl") || why.contains("duration"),
                "{bad}: {why}"
            );
        }
    }

    #[test]
    fn renewal_comes_two_thirds_into_the_lifetime() {
        assert_eq!(renew_after(900), Duration::from_secs(600));
        assert_eq!(renew_after(6), Duration::from_secs(4));
        assert_eq!(renew_after(0), Duration::from_secs(1), "never in the past");
    }

    #[test]
    fn the_schema_checks_and_the_model_fits_it() {
        let s = schema();
        s.check_as(tfplugin::schema::SchemaKind::Other)
            .expect("a valid schema");
        assert!(s.block.attr("password").is_some_and(|a| a.sensitive));
        assert!(
            tfplugin::docs::undocumented(&s).is_empty(),
            "every attribute has a description"
        );
        let model = CredentialsModel {
            instance: Field::Known("db1".into()),
            ttl: Field::Null,
            id: Field::Known("cred-1".into()),
            username: Field::Known("cred_a".into()),
            password: Field::Known("cdbpw_x".into()),
            expires_at: Field::Known("t".into()),
        };
        let v = Value::from_model(&model).expect("encodes");
        let back: CredentialsModel = tfplugin::model::conform(v, &s.implied_type())
            .expect("conforms")
            .to()
            .expect("decodes");
        assert_eq!(back, model);
    }

    #[test]
    fn private_data_round_trips_without_the_password() {
        let c = crate::client::credentials::Credential {
            id: "cred-1".into(),
            ttl_seconds: 60,
            expires_at: "2026-01-01T00:01:00Z".into(),
            ..Default::default()
        };
        let p = private("db1", &c);
        assert_eq!(
            from_private(&p).ok(),
            Some(("db1".to_string(), "cred-1".to_string(), 60))
        );
        assert!(!String::from_utf8_lossy(&p.to_bytes()).contains("cdbpw"));
        assert!(from_private(&PrivateState::new()).is_err());
    }
}
