//! `clouddb_db_instance`: the deprecated old name of `clouddb_instance`.
//!
//! Same schema (with a type-level deprecation message, which Terraform shows and `validate` warns
//! about) and the same behaviour: every handler delegates to [`InstanceResource`], so the two can
//! never drift apart. Only the type name differs. Configurations migrate with
//! `moved { from = clouddb_db_instance.a  to = clouddb_instance.a }`, which
//! `clouddb_instance`'s `move_state` accepts without touching the API.

use async_trait::async_trait;
use tfplugin::diag::Diagnostics;
use tfplugin::provider::{
    ApplyResult, Context, CreateRequest, DeleteRequest, ImportRequest, ImportResult, PlanRequest,
    PlanResponse, ReadRequest, ReadResult, Resource, UpdateRequest,
};
use tfplugin::schema::{IdentitySchema, Schema};
use tfplugin::value::Value;

use super::instance::InstanceResource;
use crate::client::Client;

/// The alias's type name; `clouddb_instance` accepts moves from it.
pub const TYPE_NAME: &str = super::instance::DEPRECATED_ALIAS;

/// What Terraform shows wherever the old name is used.
pub const DEPRECATION: &str = "clouddb_db_instance is deprecated and will be removed in a future \
     major version: use clouddb_instance instead (the same schema). Rename the resource block's \
     type and add a moved block, e.g. `moved { from = clouddb_db_instance.db  to = \
     clouddb_instance.db }`; Terraform then moves the state without replacing the instance.";

/// The `clouddb_db_instance` resource type: [`InstanceResource`] under its old name.
#[derive(Debug, Default)]
pub struct DbInstanceAlias(InstanceResource);

#[async_trait]
impl Resource<Client> for DbInstanceAlias {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        self.0.schema().deprecated(DEPRECATION)
    }

    fn identity_schema(&self) -> Option<IdentitySchema> {
        self.0.identity_schema()
    }

    async fn validate(&self, ctx: &Context, config: &Value) -> Diagnostics {
        self.0.validate(ctx, config).await
    }

    async fn modify_plan(
        &self,
        ctx: &Context,
        client: Option<&Client>,
        req: &PlanRequest,
        plan: &mut PlanResponse,
    ) -> Result<(), Diagnostics> {
        self.0.modify_plan(ctx, client, req, plan).await
    }

    async fn create(
        &self,
        ctx: &Context,
        client: &Client,
        req: CreateRequest,
    ) -> Result<ApplyResult, Diagnostics> {
        self.0.create(ctx, client, req).await
    }

    async fn read(
        &self,
        ctx: &Context,
        client: &Client,
        req: ReadRequest,
    ) -> Result<ReadResult, Diagnostics> {
        self.0.read(ctx, client, req).await
    }

    async fn update(
        &self,
        ctx: &Context,
        client: &Client,
        req: UpdateRequest,
    ) -> Result<ApplyResult, Diagnostics> {
        self.0.update(ctx, client, req).await
    }

    async fn delete(
        &self,
        ctx: &Context,
        client: &Client,
        req: DeleteRequest,
    ) -> Result<(), Diagnostics> {
        self.0.delete(ctx, client, req).await
    }

    async fn import(
        &self,
        ctx: &Context,
        client: &Client,
        req: ImportRequest,
    ) -> Result<ImportResult, Diagnostics> {
        self.0.import(ctx, client, req).await
    }

    fn upgrade_state(
        &self,
        from_version: i64,
        state: serde_json::Value,
    ) -> Result<serde_json::Value, Diagnostics> {
        self.0.upgrade_state(from_version, state)
    }

    fn generate_config(&self, state: &Value, config: Value) -> Result<Value, Diagnostics> {
        self.0.generate_config(state, config)
    }

    // `move_state` is not delegated: nothing moves *to* the deprecated name.
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The alias is the instance schema plus the deprecation, and passes the schema checks.
    #[test]
    fn alias_schema_is_the_instance_schema_deprecated() {
        let alias = DbInstanceAlias::default().schema();
        assert!(alias.check().is_ok(), "{:?}", alias.check());
        assert_eq!(alias.block.deprecated.as_deref(), Some(DEPRECATION));
        let instance = super::super::instance::schema();
        assert_eq!(alias.version, instance.version);
        assert_eq!(alias.implied_type(), instance.implied_type());
    }
}
