//! Provider-level and managed-resource RPCs: protobuf ↔ [`crate::engine`] calls.

use super::convert::{decode_dv, diags_to_pb, encode_dv, path_to_pb, schema_to_pb};
use super::{Collect, ProviderService};
use crate::diag::Diagnostics;
use crate::engine::MoveSource;
use crate::proto::tfplugin6 as pb;
use crate::provider::{ImportBy, Provider};
use crate::schema::SchemaKind;
use crate::value::{Type, Value};

fn identity_in(
    dv: Option<&pb::ResourceIdentityData>,
    ty: Option<&Type>,
    d: &mut Diagnostics,
) -> Option<Option<Value>> {
    match (dv.and_then(|i| i.identity_data.as_ref()), ty) {
        (Some(dv), Some(t)) => decode_dv(Some(dv), t, "resource identity")
            .collect_into(d)
            .map(Some),
        _ => Some(None),
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

fn deferral(caps: Option<&pb::ClientCapabilities>) -> bool {
    caps.is_some_and(|c| c.deferral_allowed)
}

impl<P: Provider> ProviderService<P> {
    pub(super) fn metadata(&self) -> pb::get_metadata::Response {
        use pb::get_metadata as m;
        let e = &self.engine;
        pb::get_metadata::Response {
            server_capabilities: Some(capabilities()),
            diagnostics: Vec::new(),
            resources: e
                .resources()
                .keys()
                .map(|n| m::ResourceMetadata {
                    type_name: n.clone(),
                })
                .collect(),
            data_sources: e
                .data_sources()
                .keys()
                .map(|n| m::DataSourceMetadata {
                    type_name: n.clone(),
                })
                .collect(),
            functions: e
                .functions()
                .keys()
                .map(|n| m::FunctionMetadata { name: n.clone() })
                .collect(),
            ephemeral_resources: e
                .ephemeral_resources()
                .keys()
                .map(|n| m::EphemeralMetadata {
                    type_name: n.clone(),
                })
                .collect(),
            list_resources: e
                .list_resources()
                .keys()
                .map(|n| m::ListResourceMetadata {
                    type_name: n.clone(),
                })
                .collect(),
            state_stores: Vec::new(),
            actions: e
                .actions()
                .keys()
                .map(|n| m::ActionMetadata {
                    type_name: n.clone(),
                })
                .collect(),
        }
    }

    /// The `GetProviderSchema` answer; built once by [`ProviderService::new`].
    pub(super) fn provider_schema_pb(&self) -> pb::get_provider_schema::Response {
        let mut d = Diagnostics::new();
        let mut checked = |kind: &str, name: &str, s: &crate::schema::Schema| {
            let as_kind = match kind {
                "provider" => SchemaKind::Provider,
                "resource" => SchemaKind::Resource,
                "data source" => SchemaKind::DataSource,
                "action" => SchemaKind::Action,
                _ => SchemaKind::Other,
            };
            if let Err(errs) = s.check_as(as_kind) {
                d.error(format!("Invalid {kind} schema for {name}"), errs.join("; "));
            }
            schema_to_pb(s)
        };
        let e = &self.engine;
        let provider = checked(
            "provider",
            e.provider().type_name(),
            &e.provider_schema().schema,
        );
        let resource_schemas = e
            .resources()
            .iter()
            .map(|(n, r)| (n.clone(), checked("resource", n, &r.s.schema)))
            .collect();
        let data_source_schemas = e
            .data_sources()
            .iter()
            .map(|(n, r)| (n.clone(), checked("data source", n, &r.s.schema)))
            .collect();
        let ephemeral_resource_schemas = e
            .ephemeral_resources()
            .iter()
            .map(|(n, r)| (n.clone(), checked("ephemeral resource", n, &r.s.schema)))
            .collect();
        let list_resource_schemas = e
            .list_resources()
            .iter()
            .map(|(n, r)| (n.clone(), checked("list resource", n, &r.s.schema)))
            .collect();
        let action_schemas = e
            .actions()
            .iter()
            .map(|(n, a)| {
                let schema = Some(checked("action", n, &a.s.schema));
                (n.clone(), pb::ActionSchema { schema })
            })
            .collect();
        for (n, r) in e.resources() {
            if let Some((i, _)) = &r.identity
                && let Err(errs) = i.check()
            {
                d.error(format!("Invalid identity schema for {n}"), errs.join("; "));
            }
        }
        for n in e.list_resources().keys() {
            // Terraform lists by identity: without one it refuses the list block.
            if e.resources().get(n).is_none_or(|r| r.identity.is_none()) {
                d.error(
                    format!("Invalid list resource {n}"),
                    format!(
                        "A list resource needs a managed resource type {n} with an identity schema."
                    ),
                );
            }
        }
        pb::get_provider_schema::Response {
            provider: Some(provider),
            resource_schemas,
            data_source_schemas,
            functions: self.functions_pb(),
            ephemeral_resource_schemas,
            list_resource_schemas,
            state_store_schemas: Default::default(),
            action_schemas,
            diagnostics: diags_to_pb(&d),
            provider_meta: None,
            server_capabilities: Some(capabilities()),
        }
    }

    pub(super) async fn validate_provider(&self, config: Option<&pb::DynamicValue>) -> Diagnostics {
        let mut d = Diagnostics::new();
        let ty = &self.engine.provider_schema().ty;
        if let Some(cfg) = decode_dv(config, ty, "provider configuration").collect_into(&mut d) {
            d.extend(self.engine.validate_provider(&cfg).await);
        }
        d
    }

    pub(super) async fn configure(&self, r: pb::configure_provider::Request) -> Diagnostics {
        let mut d = Diagnostics::new();
        let ty = &self.engine.provider_schema().ty;
        if let Some(cfg) =
            decode_dv(r.config.as_ref(), ty, "provider configuration").collect_into(&mut d)
        {
            let deferral = deferral(r.client_capabilities.as_ref());
            d.extend(
                self.engine
                    .configure(cfg, r.terraform_version, deferral)
                    .await,
            );
        }
        d
    }

    pub(super) async fn validate_resource(
        &self,
        name: &str,
        config: Option<&pb::DynamicValue>,
        caps: Option<&pb::ClientCapabilities>,
    ) -> Diagnostics {
        let mut d = Diagnostics::new();
        let Some(e) = self.engine.resource(name).collect_into(&mut d) else {
            return d;
        };
        if let Some(cfg) = decode_dv(config, &e.s.ty, "resource configuration").collect_into(&mut d)
        {
            let wo = caps.is_some_and(|c| c.write_only_attributes_allowed);
            d.extend(self.engine.validate_resource(name, &cfg, wo).await);
        }
        d
    }

    pub(super) fn upgrade_state(
        &self,
        r: pb::upgrade_resource_state::Request,
    ) -> pb::upgrade_resource_state::Response {
        let none = pb::RawState::default();
        let raw = r.raw_state.as_ref().unwrap_or(&none);
        let (v, mut d) =
            self.engine
                .upgrade_state(&r.type_name, r.version, &raw.json, &raw.flatmap);
        let upgraded_state = v.and_then(|v| {
            let e = self.engine.resource(&r.type_name).ok()?;
            encode_dv(&e.s.ty, &v, "upgraded state").collect_into(&mut d)
        });
        pb::upgrade_resource_state::Response {
            upgraded_state,
            diagnostics: diags_to_pb(&d),
        }
    }

    pub(super) fn upgrade_identity(
        &self,
        r: pb::upgrade_resource_identity::Request,
    ) -> pb::upgrade_resource_identity::Response {
        let json = r.raw_identity.as_ref().map_or(&[][..], |i| &i.json);
        let (v, mut d) = self.engine.upgrade_identity(&r.type_name, r.version, json);
        let ty = self
            .engine
            .resource(&r.type_name)
            .ok()
            .and_then(|e| e.identity.as_ref().map(|(_, t)| t));
        let upgraded_identity = identity_out(v.as_ref(), ty, &mut d);
        pb::upgrade_resource_identity::Response {
            upgraded_identity,
            diagnostics: diags_to_pb(&d),
        }
    }

    pub(super) async fn read(&self, r: pb::read_resource::Request) -> pb::read_resource::Response {
        let mut d = Diagnostics::new();
        // What Terraform sent comes back unchanged when the request cannot be served; it is
        // moved there, not copied on every refresh (this is the hottest RPC of a plan).
        let unchanged =
            |r: pb::read_resource::Request, d: &Diagnostics| pb::read_resource::Response {
                private: r.private,
                new_state: r.current_state,
                new_identity: r.current_identity,
                diagnostics: diags_to_pb(d),
                ..Default::default()
            };
        let Some(e) = self.engine.resource(&r.type_name).collect_into(&mut d) else {
            return unchanged(r, &d);
        };
        let id_ty = e.identity.as_ref().map(|(_, t)| t);
        let inputs = decode_dv(r.current_state.as_ref(), &e.s.ty, "current state")
            .collect_into(&mut d)
            .zip(identity_in(r.current_identity.as_ref(), id_ty, &mut d));
        let Some((state, identity)) = inputs else {
            return unchanged(r, &d);
        };
        let deferral = deferral(r.client_capabilities.as_ref());
        let out = self
            .engine
            .read(&r.type_name, state, &r.private, identity, deferral)
            .await;
        d.extend(out.diagnostics);
        let new_state = if out.unchanged {
            r.current_state
        } else {
            encode_dv(&e.s.ty, &out.new_state, "refreshed state").collect_into(&mut d)
        };
        let new_identity = identity_out(out.identity.as_ref(), id_ty, &mut d);
        pb::read_resource::Response {
            private: out.private,
            new_state,
            new_identity,
            diagnostics: diags_to_pb(&d),
            ..Default::default()
        }
    }

    pub(super) async fn plan(
        &self,
        r: pb::plan_resource_change::Request,
    ) -> pb::plan_resource_change::Response {
        let mut d = Diagnostics::new();
        let mut resp = pb::plan_resource_change::Response {
            planned_private: r.prior_private.clone(),
            planned_identity: r.prior_identity.clone(),
            ..Default::default()
        };
        let Some(e) = self.engine.resource(&r.type_name).collect_into(&mut d) else {
            resp.diagnostics = diags_to_pb(&d);
            return resp;
        };
        let id_ty = e.identity.as_ref().map(|(_, t)| t);
        let inputs = (|| {
            let prior =
                decode_dv(r.prior_state.as_ref(), &e.s.ty, "prior state").collect_into(&mut d)?;
            // An unchanged object's proposed new state is its prior state byte for byte (most
            // objects of a large plan): copying the decoded prior costs less than decoding the
            // same bytes again (issue 11's profile).
            let proposed = if same_bytes(r.prior_state.as_ref(), r.proposed_new_state.as_ref()) {
                prior.clone()
            } else {
                decode_dv(r.proposed_new_state.as_ref(), &e.s.ty, "proposed new state")
                    .collect_into(&mut d)?
            };
            Some((
                prior,
                proposed,
                decode_dv(r.config.as_ref(), &e.s.ty, "configuration").collect_into(&mut d)?,
                identity_in(r.prior_identity.as_ref(), id_ty, &mut d)?,
            ))
        })();
        if let Some((prior, proposed, config, identity)) = inputs {
            let deferral = deferral(r.client_capabilities.as_ref());
            let out = self
                .engine
                .plan(
                    &r.type_name,
                    prior,
                    proposed,
                    config,
                    &r.prior_private,
                    identity,
                    deferral,
                )
                .await;
            d.extend(out.diagnostics);
            resp.planned_state =
                encode_dv(&e.s.ty, &out.planned_state, "planned state").collect_into(&mut d);
            resp.requires_replace = out.requires_replace.iter().map(path_to_pb).collect();
            resp.planned_private = out.planned_private;
            resp.planned_identity = identity_out(out.planned_identity.as_ref(), id_ty, &mut d);
        }
        resp.diagnostics = diags_to_pb(&d);
        resp
    }

    pub(super) async fn apply(
        &self,
        r: pb::apply_resource_change::Request,
    ) -> pb::apply_resource_change::Response {
        let mut d = Diagnostics::new();
        let mut resp = pb::apply_resource_change::Response {
            // undecodable input: keep what Terraform had
            new_state: r.prior_state.clone(),
            private: r.planned_private.clone(),
            ..Default::default()
        };
        let Some(e) = self.engine.resource(&r.type_name).collect_into(&mut d) else {
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
                identity_in(r.planned_identity.as_ref(), id_ty, &mut d)?,
            ))
        })();
        if let Some((prior, planned, config, identity)) = inputs {
            let out = self
                .engine
                .apply(
                    &r.type_name,
                    prior,
                    planned,
                    config,
                    &r.planned_private,
                    identity,
                )
                .await;
            d.extend(out.diagnostics);
            resp.new_state = encode_dv(&e.s.ty, &out.new_state, "new state").collect_into(&mut d);
            resp.private = out.private;
            resp.new_identity = identity_out(out.identity.as_ref(), id_ty, &mut d);
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
        let identity = r.identity.as_ref().and_then(|i| i.identity_data.as_ref());
        let by = match (identity, self.engine.resource(&r.type_name)) {
            (None, _) => Some(ImportBy::Id(r.id.clone())),
            (Some(dv), Ok(e)) => match &e.identity {
                Some((_, ty)) => decode_dv(Some(dv), ty, "import identity")
                    .collect_into(&mut d)
                    .map(ImportBy::Identity),
                // the engine says why a type without identity schema cannot import by one
                None => Some(ImportBy::Identity(Value::Null)),
            },
            (Some(_), Err(err)) => {
                d.push(err);
                None
            }
        };
        if let Some(by) = by {
            let deferral = deferral(r.client_capabilities.as_ref());
            let out = self.engine.import(&r.type_name, by, deferral).await;
            d.extend(out.diagnostics);
            if let (Some((state, private, identity)), Ok(e)) =
                (out.imported, self.engine.resource(&r.type_name))
            {
                let id_ty = e.identity.as_ref().map(|(_, t)| t);
                if let Some(state) =
                    encode_dv(&e.s.ty, &state, "imported state").collect_into(&mut d)
                {
                    imported.push(pb::import_resource_state::ImportedResource {
                        type_name: r.type_name.clone(),
                        state: Some(state),
                        private,
                        identity: identity_out(identity.as_ref(), id_ty, &mut d),
                    });
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
        let json = |s: Option<pb::RawState>| s.map(|s| s.json).unwrap_or_default();
        let target = r.target_type_name.clone();
        let source = MoveSource {
            provider_address: r.source_provider_address,
            type_name: r.source_type_name,
            schema_version: r.source_schema_version,
            state_json: json(r.source_state),
            private: r.source_private,
            identity_json: json(r.source_identity),
            identity_schema_version: r.source_identity_schema_version,
        };
        let out = self.engine.move_state(&target, source).await;
        let mut d = out.diagnostics;
        let mut resp = pb::move_resource_state::Response::default();
        if let (Some(state), Ok(e)) = (out.target_state, self.engine.resource(&target)) {
            let id_ty = e.identity.as_ref().map(|(_, t)| t);
            resp.target_state = encode_dv(&e.s.ty, &state, "moved state").collect_into(&mut d);
            resp.target_private = out.target_private;
            resp.target_identity = identity_out(out.target_identity.as_ref(), id_ty, &mut d);
        }
        resp.diagnostics = diags_to_pb(&d);
        resp
    }

    pub(super) fn generate_config(
        &self,
        r: pb::generate_resource_config::Request,
    ) -> pb::generate_resource_config::Response {
        let mut d = Diagnostics::new();
        let mut config = None;
        if let Some(e) = self.engine.resource(&r.type_name).collect_into(&mut d)
            && let Some(v) = decode_dv(r.state.as_ref(), &e.s.ty, "state").collect_into(&mut d)
        {
            let (v, diags) = self.engine.generate_config(&r.type_name, v);
            d.extend(diags);
            config =
                v.and_then(|v| encode_dv(&e.s.ty, &v, "generated config").collect_into(&mut d));
        }
        pb::generate_resource_config::Response {
            config,
            diagnostics: diags_to_pb(&d),
        }
    }
}

/// Whether two `DynamicValue`s carry the same encoding of the same bytes (so they decode to
/// equal values); false when either is absent.
fn same_bytes(a: Option<&pb::DynamicValue>, b: Option<&pb::DynamicValue>) -> bool {
    matches!((a, b), (Some(a), Some(b)) if a.msgpack == b.msgpack && a.json == b.json)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_bytes_needs_both_and_the_same_encoding() {
        let mp = |b: &[u8]| pb::DynamicValue {
            msgpack: b.to_vec(),
            json: Vec::new(),
        };
        let js = |b: &[u8]| pb::DynamicValue {
            msgpack: Vec::new(),
            json: b.to_vec(),
        };
        assert!(same_bytes(Some(&mp(b"\x80")), Some(&mp(b"\x80"))));
        assert!(!same_bytes(Some(&mp(b"\x80")), Some(&mp(b"\xc0"))));
        assert!(!same_bytes(Some(&mp(b"{}")), Some(&js(b"{}"))));
        assert!(!same_bytes(None, Some(&mp(b"\x80"))));
        assert!(!same_bytes(None, None));
    }
}
