//! Provider-level and managed-resource RPCs.

use super::convert::{
    decode_dv, diags_to_pb, encode_dv, path_to_pb, schema_to_pb, scrub_unknowns, scrub_write_only,
};
use super::{Collect, ProviderService, guard, guard_sync};
use crate::diag::{Diagnostic, Diagnostics};
use crate::plan::{self, check};
use crate::proto::tfplugin6 as pb;
use crate::provider::{
    ConfigureRequest, CreateRequest, DeleteRequest, MoveStateRequest, PlanRequest, PlanResponse,
    PrivateState, ReadRequest, UpdateRequest,
};
use crate::schema::{AttrType, validate_config};
use crate::value::raw_state::{self, RawStateError};
use crate::value::{Type, Value};

/// Decodes the private state bytes Terraform stored for us.
pub(super) fn private(bytes: &[u8], what: &str) -> Result<PrivateState, Diagnostic> {
    PrivateState::from_bytes(bytes)
        .map_err(|e| Diagnostic::error(format!("Invalid {what}"), e.to_string()))
}

/// A diagnostic for stored state that does not fit the schema, at the offending
/// attribute when the error names one.
fn state_error(summary: &str, detail: String, err: &RawStateError) -> Diagnostic {
    let d = Diagnostic::error(summary, detail);
    match err {
        RawStateError::Type(e) if !e.path.is_empty() => d.at(e.path.clone()),
        _ => d,
    }
}

fn identity_in(
    dv: Option<&pb::ResourceIdentityData>,
    ty: Option<&Type>,
) -> Result<Option<Value>, Diagnostic> {
    match (dv.and_then(|i| i.identity_data.as_ref()), ty) {
        (Some(d), Some(t)) => decode_dv(Some(d), t, "resource identity").map(Some),
        _ => Ok(None),
    }
}

fn identity_out(
    v: Option<&Value>,
    ty: Option<&Type>,
    d: &mut Diagnostics,
) -> Option<pb::ResourceIdentityData> {
    let (v, t) = (v?, ty?);
    if v.is_null() {
        return None;
    }
    encode_dv(t, v, "resource identity")
        .collect_into(d)
        .map(|dv| pb::ResourceIdentityData {
            identity_data: Some(dv),
        })
}

impl ProviderService {
    pub(super) fn metadata(&self) -> pb::get_metadata::Response {
        use pb::get_metadata as m;
        pb::get_metadata::Response {
            server_capabilities: Some(capabilities()),
            diagnostics: Vec::new(),
            resources: self
                .resources
                .keys()
                .map(|n| m::ResourceMetadata {
                    type_name: n.clone(),
                })
                .collect(),
            data_sources: self
                .data_sources
                .keys()
                .map(|n| m::DataSourceMetadata {
                    type_name: n.clone(),
                })
                .collect(),
            functions: self
                .functions
                .keys()
                .map(|n| m::FunctionMetadata { name: n.clone() })
                .collect(),
            ephemeral_resources: self
                .ephemeral
                .keys()
                .map(|n| m::EphemeralMetadata {
                    type_name: n.clone(),
                })
                .collect(),
            list_resources: self
                .lists
                .keys()
                .map(|n| m::ListResourceMetadata {
                    type_name: n.clone(),
                })
                .collect(),
            state_stores: Vec::new(),
            actions: Vec::new(),
        }
    }

    /// The `GetProviderSchema` answer; built once by [`ProviderService::new`].
    pub(super) fn provider_schema_pb(&self) -> pb::get_provider_schema::Response {
        let mut d = Diagnostics::new();
        let mut checked = |kind: &str, name: &str, s: &crate::schema::Schema| {
            if let Err(errs) = s.check() {
                d.error(format!("Invalid {kind} schema for {name}"), errs.join("; "));
            }
            schema_to_pb(s)
        };
        let provider = checked(
            "provider",
            self.provider.type_name(),
            &self.provider_schema.schema,
        );
        let resource_schemas = self
            .resources
            .iter()
            .map(|(n, e)| (n.clone(), checked("resource", n, &e.s.schema)))
            .collect();
        let data_source_schemas = self
            .data_sources
            .iter()
            .map(|(n, e)| (n.clone(), checked("data source", n, &e.s.schema)))
            .collect();
        let ephemeral_resource_schemas = self
            .ephemeral
            .iter()
            .map(|(n, e)| (n.clone(), checked("ephemeral resource", n, &e.s.schema)))
            .collect();
        let list_resource_schemas = self
            .lists
            .iter()
            .map(|(n, e)| (n.clone(), checked("list resource", n, &e.s.schema)))
            .collect();
        pb::get_provider_schema::Response {
            provider: Some(provider),
            resource_schemas,
            data_source_schemas,
            functions: self.functions_pb(),
            ephemeral_resource_schemas,
            list_resource_schemas,
            state_store_schemas: Default::default(),
            action_schemas: Default::default(),
            diagnostics: diags_to_pb(&d),
            provider_meta: None,
            server_capabilities: Some(capabilities()),
        }
    }

    pub(super) async fn validate_provider(&self, config: Option<&pb::DynamicValue>) -> Diagnostics {
        let mut d = Diagnostics::new();
        let Some(cfg) = decode_dv(config, &self.provider_schema.ty, "provider configuration")
            .collect_into(&mut d)
        else {
            return d;
        };
        d.extend(validate_config(&self.provider_schema.schema.block, &cfg));
        let ctx = self.ctx(None);
        guard(
            "validate provider config",
            self.provider.validate_config(&ctx, &cfg),
        )
        .await
        .map(|x| d.extend(x))
        .collect_into(&mut d);
        d
    }

    pub(super) async fn configure(&self, r: pb::configure_provider::Request) -> Diagnostics {
        let mut d = Diagnostics::new();
        if let Ok(mut v) = self.terraform_version.write() {
            v.clone_from(&r.terraform_version);
        }
        let Some(cfg) = decode_dv(
            r.config.as_ref(),
            &self.provider_schema.ty,
            "provider configuration",
        )
        .collect_into(&mut d) else {
            return d;
        };
        let ctx = self.ctx(r.client_capabilities.as_ref());
        let req = ConfigureRequest {
            config: cfg,
            terraform_version: r.terraform_version,
        };
        guard("configure", self.provider.configure(&ctx, req))
            .await
            .map(|x| d.extend(x))
            .collect_into(&mut d);
        d
    }

    pub(super) async fn validate_resource(
        &self,
        name: &str,
        config: Option<&pb::DynamicValue>,
        caps: Option<&pb::ClientCapabilities>,
    ) -> Diagnostics {
        let mut d = Diagnostics::new();
        let Some(e) = self.resource(name).collect_into(&mut d) else {
            return d;
        };
        let Some(cfg) = decode_dv(config, &e.s.ty, "resource configuration").collect_into(&mut d)
        else {
            return d;
        };
        d.extend(validate_config(&e.s.schema.block, &cfg));
        if !caps.is_some_and(|c| c.write_only_attributes_allowed) {
            // Terraform < 1.11 would store these in state (or reject our null plan):
            // say so up front instead.
            for a in e.s.schema.block.attributes.iter().filter(|a| a.write_only) {
                if !cfg.get(&a.name).is_null() {
                    d.attribute_error(
                        crate::value::AttributePath::attr(&a.name),
                        "Write-only attribute not supported",
                        format!(
                            "{} is write-only, which needs Terraform 1.11 or later.",
                            a.name
                        ),
                    );
                }
            }
        }
        let ctx = self.ctx(caps);
        guard("validate", e.imp.validate(&ctx, &cfg))
            .await
            .map(|x| d.extend(x))
            .collect_into(&mut d);
        d
    }

    pub(super) fn upgrade_state(
        &self,
        r: pb::upgrade_resource_state::Request,
    ) -> pb::upgrade_resource_state::Response {
        let mut d = Diagnostics::new();
        let upgraded = self.upgrade_state_inner(&r, &mut d);
        pb::upgrade_resource_state::Response {
            upgraded_state: upgraded,
            diagnostics: diags_to_pb(&d),
        }
    }

    fn upgrade_state_inner(
        &self,
        r: &pb::upgrade_resource_state::Request,
        d: &mut Diagnostics,
    ) -> Option<pb::DynamicValue> {
        let e = self.resource(&r.type_name).collect_into(d)?;
        let current = e.s.schema.version;
        if r.version > current {
            d.error(
                "Resource state from a newer provider",
                format!("The state was written with schema version {}, but this provider only knows up to {current}.", r.version),
            );
            return None;
        }
        let none = pb::RawState::default();
        let raw = r.raw_state.as_ref().unwrap_or(&none);
        let value = if !raw.json.is_empty() {
            let mut j = raw_state::parse_json(&raw.json)
                .map_err(|e| Diagnostic::error("Invalid stored resource state", e.to_string()))
                .collect_into(d)?;
            if r.version < current {
                let res = guard_sync("upgrade_state", || e.imp.upgrade_state(r.version, j))
                    .collect_into(d)?;
                j = match res {
                    Ok(up) => up,
                    Err(errs) => {
                        d.extend(errs);
                        return None;
                    }
                };
            }
            raw_state::from_json_state(&e.s.ty, &j)
                .map_err(|err| {
                    state_error(
                        "Unable to upgrade resource state",
                        format!("The state does not fit schema version {current}: {err}."),
                        &err,
                    )
                })
                .collect_into(d)?
        } else if !raw.flatmap.is_empty() {
            if r.version < current {
                d.error(
                    "Unsupported legacy state",
                    format!("Flatmap state from schema version {} cannot be upgraded to {current}; re-import the resource.", r.version),
                );
                return None;
            }
            raw_state::from_flatmap(&e.s.ty, &raw.flatmap)
                .map_err(|err| Diagnostic::error("Invalid legacy flatmap state", err.to_string()))
                .collect_into(d)?
        } else {
            Value::Null
        };
        encode_dv(&e.s.ty, &value, "upgraded state").collect_into(d)
    }

    pub(super) fn upgrade_identity(
        &self,
        r: pb::upgrade_resource_identity::Request,
    ) -> pb::upgrade_resource_identity::Response {
        let mut d = Diagnostics::new();
        let out = (|| {
            let e = self.resource(&r.type_name).collect_into(&mut d)?;
            let Some((schema, ty)) = &e.identity else {
                d.error(
                    "Resource has no identity",
                    format!(
                        "{} does not define a resource identity schema.",
                        r.type_name
                    ),
                );
                return None;
            };
            if r.version != schema.version {
                d.error(
                    "Unable to upgrade resource identity",
                    format!(
                        "Identity schema version {} cannot be converted to {}.",
                        r.version, schema.version
                    ),
                );
                return None;
            }
            let json = r.raw_identity.as_ref().map_or(&[][..], |i| &i.json);
            let j = raw_state::parse_json(json)
                .map_err(|e| Diagnostic::error("Invalid stored identity", e.to_string()))
                .collect_into(&mut d)?;
            let v = raw_state::from_json_state(ty, &j)
                .map_err(|e| state_error("Invalid stored identity", e.to_string(), &e))
                .collect_into(&mut d)?;
            encode_dv(ty, &v, "identity")
                .collect_into(&mut d)
                .map(|dv| pb::ResourceIdentityData {
                    identity_data: Some(dv),
                })
        })();
        pb::upgrade_resource_identity::Response {
            upgraded_identity: out,
            diagnostics: diags_to_pb(&d),
        }
    }

    pub(super) async fn read(&self, r: pb::read_resource::Request) -> pb::read_resource::Response {
        let mut d = Diagnostics::new();
        let mut resp = pb::read_resource::Response {
            private: r.private.clone(),
            ..Default::default()
        };
        let Some(e) = self.resource(&r.type_name).collect_into(&mut d) else {
            resp.diagnostics = diags_to_pb(&d);
            return resp;
        };
        let id_ty = e.identity.as_ref().map(|(_, t)| t);
        let inputs = (|| {
            Some((
                decode_dv(r.current_state.as_ref(), &e.s.ty, "current state")
                    .collect_into(&mut d)?,
                private(&r.private, "private state").collect_into(&mut d)?,
                identity_in(r.current_identity.as_ref(), id_ty).collect_into(&mut d)?,
            ))
        })();
        let Some((state, priv_state, identity)) = inputs else {
            resp.new_state = r.current_state;
            resp.diagnostics = diags_to_pb(&d);
            return resp;
        };
        if state.is_null() {
            resp.new_state = encode_dv(&e.s.ty, &Value::Null, "state").ok();
            resp.diagnostics = diags_to_pb(&d);
            return resp;
        }
        let ctx = self.ctx(r.client_capabilities.as_ref());
        match guard(
            "read",
            e.imp.read(
                &ctx,
                ReadRequest {
                    state: state.clone(),
                    private: priv_state,
                },
            ),
        )
        .await
        {
            Ok(mut res) => {
                d.extend(res.diagnostics);
                if !d.has_errors() {
                    d.extend(check::read_result(&e.s.schema, &e.s.ty, &res.new_state));
                }
                scrub_unknowns(&mut res.new_state);
                scrub_write_only(&e.s.schema.block, &mut res.new_state);
                resp.new_state =
                    encode_dv(&e.s.ty, &res.new_state, "refreshed state").collect_into(&mut d);
                resp.private = res.private.to_bytes();
                resp.new_identity =
                    identity_out(res.identity.as_ref().or(identity.as_ref()), id_ty, &mut d);
            }
            Err(p) => {
                d.push(p);
                resp.new_state = r.current_state;
                resp.new_identity = r.current_identity;
            }
        }
        resp.diagnostics = diags_to_pb(&d);
        resp
    }

    pub(super) async fn plan(
        &self,
        r: pb::plan_resource_change::Request,
    ) -> pb::plan_resource_change::Response {
        let mut d = Diagnostics::new();
        let mut resp = pb::plan_resource_change::Response {
            planned_private: r.prior_private.clone(),
            ..Default::default()
        };
        let Some(e) = self.resource(&r.type_name).collect_into(&mut d) else {
            resp.diagnostics = diags_to_pb(&d);
            return resp;
        };
        let inputs = (|| {
            Some((
                decode_dv(r.prior_state.as_ref(), &e.s.ty, "prior state").collect_into(&mut d)?,
                decode_dv(r.proposed_new_state.as_ref(), &e.s.ty, "proposed new state")
                    .collect_into(&mut d)?,
                decode_dv(r.config.as_ref(), &e.s.ty, "configuration").collect_into(&mut d)?,
                private(&r.prior_private, "prior private state").collect_into(&mut d)?,
            ))
        })();
        let Some((prior, proposed, config, prior_private)) = inputs else {
            resp.diagnostics = diags_to_pb(&d);
            return resp;
        };
        resp.planned_identity = r.prior_identity.clone();
        if proposed.is_null() {
            // destroy plan (only with plan_destroy): must be null
            resp.planned_state = encode_dv(&e.s.ty, &Value::Null, "planned state").ok();
            resp.diagnostics = diags_to_pb(&d);
            return resp;
        }
        let planned = plan::plan_resource_change(&e.s.schema, &prior, &proposed, &config);
        let req = PlanRequest {
            config,
            prior_state: prior,
            proposed_new_state: proposed,
            prior_private: prior_private.clone(),
        };
        let mut out = PlanResponse {
            planned_state: planned.planned_state,
            requires_replace: planned.requires_replace,
            planned_private: prior_private,
            diagnostics: planned.diagnostics,
        };
        let ctx = self.ctx(r.client_capabilities.as_ref());
        guard("modify_plan", e.imp.modify_plan(&ctx, &req, &mut out))
            .await
            .collect_into(&mut d);
        d.extend(std::mem::take(&mut out.diagnostics));
        if !d.has_errors() {
            d.extend(check::check_plan(
                &e.s.schema,
                &req.prior_state,
                &req.config,
                &out.planned_state,
            ));
        }
        resp.planned_state =
            encode_dv(&e.s.ty, &out.planned_state, "planned state").collect_into(&mut d);
        resp.requires_replace = out.requires_replace.iter().map(path_to_pb).collect();
        resp.planned_private = out.planned_private.to_bytes();
        resp.diagnostics = diags_to_pb(&d);
        resp
    }

    pub(super) async fn apply(
        &self,
        r: pb::apply_resource_change::Request,
    ) -> pb::apply_resource_change::Response {
        let mut d = Diagnostics::new();
        let mut resp = pb::apply_resource_change::Response::default();
        let Some(e) = self.resource(&r.type_name).collect_into(&mut d) else {
            resp.diagnostics = diags_to_pb(&d);
            return resp;
        };
        let id_ty = e.identity.as_ref().map(|(_, t)| t);
        let inputs = (|| {
            Some((
                decode_dv(r.prior_state.as_ref(), &e.s.ty, "prior state").collect_into(&mut d)?,
                decode_dv(r.planned_state.as_ref(), &e.s.ty, "planned state")
                    .collect_into(&mut d)?,
                decode_dv(r.config.as_ref(), &e.s.ty, "configuration").collect_into(&mut d)?,
                private(&r.planned_private, "planned private state").collect_into(&mut d)?,
                identity_in(r.planned_identity.as_ref(), id_ty).collect_into(&mut d)?,
            ))
        })();
        let Some((prior, planned, config, planned_private, planned_identity)) = inputs else {
            // keep whatever Terraform had: null new_state = prior state unchanged
            resp.diagnostics = diags_to_pb(&d);
            return resp;
        };
        let ctx = self.ctx(None);
        if planned.is_null() {
            let req = DeleteRequest {
                prior_state: prior,
                private: planned_private,
            };
            match guard("delete", e.imp.delete(&ctx, req)).await {
                Ok(x) => d.extend(x),
                Err(p) => d.push(p),
            }
            resp.new_state = encode_dv(&e.s.ty, &Value::Null, "new state").ok();
            resp.diagnostics = diags_to_pb(&d);
            return resp;
        }
        let result = if prior.is_null() {
            let req = CreateRequest {
                config,
                planned_state: planned.clone(),
                planned_private,
            };
            guard("create", e.imp.create(&ctx, req)).await
        } else {
            let req = UpdateRequest {
                config,
                prior_state: prior,
                planned_state: planned.clone(),
                planned_private,
            };
            guard("update", e.imp.update(&ctx, req)).await
        };
        match result {
            Ok(mut res) => {
                d.extend(res.diagnostics);
                if !d.has_errors() {
                    d.extend(check::apply_result(
                        &e.s.schema,
                        &e.s.ty,
                        &planned,
                        &res.new_state,
                    ));
                }
                scrub_unknowns(&mut res.new_state);
                scrub_write_only(&e.s.schema.block, &mut res.new_state);
                resp.new_state =
                    encode_dv(&e.s.ty, &res.new_state, "new state").collect_into(&mut d);
                resp.private = res.private.to_bytes();
                resp.new_identity = identity_out(
                    res.identity.as_ref().or(planned_identity.as_ref()),
                    id_ty,
                    &mut d,
                );
            }
            Err(p) => d.push(p),
        }
        resp.diagnostics = diags_to_pb(&d);
        resp
    }

    pub(super) async fn import(
        &self,
        r: pb::import_resource_state::Request,
    ) -> pb::import_resource_state::Response {
        let mut d = Diagnostics::new();
        let mut imported = Vec::new();
        if let Some(e) = self.resource(&r.type_name).collect_into(&mut d) {
            let ctx = self.ctx(r.client_capabilities.as_ref());
            if let Some(mut res) = guard("import", e.imp.import(&ctx, &r.id))
                .await
                .collect_into(&mut d)
            {
                d.extend(res.diagnostics);
                if !d.has_errors() {
                    // fill in the attributes the import left out with null
                    if let Value::Object(m) = &mut res.state
                        && let Type::Object(o) = &e.s.ty
                    {
                        for k in o.attrs.keys() {
                            m.entry(k.clone()).or_insert(Value::Null);
                        }
                    }
                    scrub_unknowns(&mut res.state);
                    let id_ty = e.identity.as_ref().map(|(_, t)| t);
                    if let Some(state) =
                        encode_dv(&e.s.ty, &res.state, "imported state").collect_into(&mut d)
                    {
                        imported.push(pb::import_resource_state::ImportedResource {
                            type_name: r.type_name.clone(),
                            state: Some(state),
                            private: res.private.to_bytes(),
                            identity: identity_out(res.identity.as_ref(), id_ty, &mut d),
                        });
                    }
                }
            }
        }
        pb::import_resource_state::Response {
            imported_resources: imported,
            diagnostics: diags_to_pb(&d),
            deferred: None,
        }
    }

    pub(super) async fn move_state(
        &self,
        r: pb::move_resource_state::Request,
    ) -> pb::move_resource_state::Response {
        let mut d = Diagnostics::new();
        let mut resp = pb::move_resource_state::Response::default();
        let Some(e) = self.resource(&r.target_type_name).collect_into(&mut d) else {
            resp.diagnostics = diags_to_pb(&d);
            return resp;
        };
        let json = r
            .source_state
            .as_ref()
            .map(|s| s.json.as_slice())
            .unwrap_or_default();
        let src = if json.is_empty() {
            Ok(serde_json::Value::Null)
        } else {
            raw_state::parse_json(json)
                .map_err(|e| Diagnostic::error("Invalid source state", e.to_string()))
        };
        let inputs = src
            .collect_into(&mut d)
            .zip(private(&r.source_private, "source private state").collect_into(&mut d));
        if let Some((source_state, source_private)) = inputs {
            let req = MoveStateRequest {
                source_provider_address: r.source_provider_address,
                source_type_name: r.source_type_name,
                source_schema_version: r.source_schema_version,
                source_state,
                source_private,
            };
            let ctx = self.ctx(None);
            if let Some(mut res) = guard("move_state", e.imp.move_state(&ctx, req))
                .await
                .collect_into(&mut d)
            {
                d.extend(res.diagnostics);
                scrub_unknowns(&mut res.target_state);
                resp.target_state =
                    encode_dv(&e.s.ty, &res.target_state, "moved state").collect_into(&mut d);
                resp.target_private = res.target_private.to_bytes();
            }
        }
        resp.diagnostics = diags_to_pb(&d);
        resp
    }

    /// Config for `-generate-config-out`: the state minus computed-only and write-only
    /// attributes (those cannot appear in configuration).
    pub(super) fn generate_config(
        &self,
        r: pb::generate_resource_config::Request,
    ) -> pb::generate_resource_config::Response {
        let mut d = Diagnostics::new();
        let mut config = None;
        if let Some(e) = self.resource(&r.type_name).collect_into(&mut d)
            && let Some(mut v) = decode_dv(r.state.as_ref(), &e.s.ty, "state").collect_into(&mut d)
        {
            for a in &e.s.schema.block.attributes {
                let drop = (a.computed && !a.optional) || a.write_only;
                if drop && !matches!(a.kind, AttrType::Nested(_) if a.optional) {
                    v.set_attr(a.name.clone(), Value::Null);
                }
            }
            config = encode_dv(&e.s.ty, &v, "generated config").collect_into(&mut d);
        }
        pb::generate_resource_config::Response {
            config,
            diagnostics: diags_to_pb(&d),
        }
    }
}

/// What this framework supports, announced in `GetProviderSchema` and `GetMetadata`.
fn capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        // Terraform plans destroys itself; our resources don't need a say.
        plan_destroy: false,
        // Schemas are static, so Terraform may cache them across processes.
        get_provider_schema_optional: true,
        // Resources may implement `move_state`; others answer with a diagnostic.
        move_resource_state: true,
        // `GenerateResourceConfig` is implemented (see `generate_config`); without this
        // flag Terraform never calls it and generates `-generate-config-out` itself.
        generate_resource_config: true,
    }
}
