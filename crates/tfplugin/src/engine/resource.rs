//! Managed resources: validate, upgrade, read, plan, apply, import, move, generate config.

use super::genconfig::{check_config, config_from_state};
use super::identity::{self, Op, is_fully_null};
use super::{
    Collect, Engine, guard, guard_sync, mark_imported, private, private_marked, scrub_unknowns,
    scrub_write_only,
};
use crate::diag::{Diagnostic, Diagnostics};
use crate::model::conform;
use crate::plan::{self, check};
use crate::provider::{
    CreateRequest, DeleteRequest, ImportBy, ImportRequest, MoveStateRequest, PlanRequest,
    PlanResponse, Provider, ReadRequest, UpdateRequest,
};
use crate::schema::validate_config;
use crate::value::raw_state::{self, RawStateError};
use crate::value::{AttributePath, Type, Value};
use std::collections::HashMap;

/// What a refresh returns.
#[derive(Debug, Default)]
pub struct ReadOutput {
    /// The refreshed state (null when gone). Unused when `unchanged`.
    pub new_state: Value,
    /// The current state stands as Terraform sent it: the read found no drift, or failed
    /// (nothing is lost). The caller sends back the bytes it was given.
    pub unchanged: bool,
    /// Private bytes to store.
    pub private: Vec<u8>,
    /// Identity to store.
    pub identity: Option<Value>,
    /// Every diagnostic of the call (decode, validation, the handler, the checks), in order.
    pub diagnostics: Diagnostics,
}

/// What a plan returns.
#[derive(Debug, Default)]
pub struct PlanOutput {
    /// The planned state (null for a destroy, or on failure).
    pub planned_state: Value,
    /// Paths forcing replacement.
    pub requires_replace: Vec<AttributePath>,
    /// Private bytes carried to apply.
    pub planned_private: Vec<u8>,
    /// The planned identity (the prior one on update; on create what `modify_plan` set).
    pub planned_identity: Option<Value>,
    /// Every diagnostic of the call (decode, validation, the handler, the checks), in order.
    pub diagnostics: Diagnostics,
}

/// What an apply returns.
#[derive(Debug, Default)]
pub struct ApplyOutput {
    /// The new state: null after a delete or a create that made nothing; the prior state
    /// after a failed update or delete.
    pub new_state: Value,
    /// Private bytes to store.
    pub private: Vec<u8>,
    /// Identity to store.
    pub identity: Option<Value>,
    /// Every diagnostic of the call (decode, validation, the handler, the checks), in order.
    pub diagnostics: Diagnostics,
}

/// What an import returns (at most one object).
#[derive(Debug, Default)]
pub struct ImportOutput {
    /// The imported object: state, private bytes and identity.
    pub imported: Option<(Value, Vec<u8>, Option<Value>)>,
    /// Every diagnostic of the call (decode, validation, the handler, the checks), in order.
    pub diagnostics: Diagnostics,
}

/// What a move returns.
#[derive(Debug, Default)]
pub struct MoveOutput {
    /// The target state (None on failure).
    pub target_state: Option<Value>,
    /// Target private bytes.
    pub target_private: Vec<u8>,
    /// Target identity (types with an identity schema, when the move produced one).
    pub target_identity: Option<Value>,
    /// Every diagnostic of the call (decode, validation, the handler, the checks), in order.
    pub diagnostics: Diagnostics,
}

/// `MoveResourceState` input as Terraform sends it: the source's stored JSON, unparsed.
#[derive(Debug, Clone, Default)]
pub struct MoveSource {
    /// Source provider address.
    pub provider_address: String,
    /// Source resource type.
    pub type_name: String,
    /// Schema version the source state was written with.
    pub schema_version: i64,
    /// Source state JSON (empty: none).
    pub state_json: Vec<u8>,
    /// Source private bytes.
    pub private: Vec<u8>,
    /// Source identity JSON (empty: none).
    pub identity_json: Vec<u8>,
    /// Identity schema version the source identity was written with.
    pub identity_schema_version: i64,
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

/// A diagnostic for stored JSON state that is not JSON, or does not fit schema version
/// `current`.
fn stored_json_error(err: &RawStateError, current: i64) -> Diagnostic {
    if matches!(err, RawStateError::Syntax(_)) {
        Diagnostic::error("Invalid stored resource state", err.to_string())
    } else {
        state_error(
            "Unable to upgrade resource state",
            format!("The state does not fit schema version {current}: {err}."),
            err,
        )
    }
}

/// Fits a handler's state to the schema type, reporting a misfit (a provider bug) and
/// keeping the value as it was so that nothing the API created is dropped.
fn fit(v: Value, ty: &Type, d: &mut Diagnostics) -> Value {
    // The common case, a value already of the schema's kinds (which `conform` would return
    // unchanged), costs a read-only walk instead of a copy kept for the error case.
    if v.conforms(ty).is_ok() {
        return v;
    }
    match conform(v.clone(), ty) {
        Ok(v) => v,
        Err(e) => {
            d.push(e.to_diagnostic());
            v
        }
    }
}

impl<P: Provider> Engine<P> {
    /// `ValidateResourceConfig`: schema validators, write-only support, then the type's own
    /// checks.
    pub async fn validate_resource(
        &self,
        name: &str,
        config: &Value,
        write_only_allowed: bool,
    ) -> Diagnostics {
        let mut d = Diagnostics::new();
        let Some(e) = self.resource(name).collect_into(&mut d) else {
            return d;
        };
        d.extend(validate_config(&e.s.schema.block, config));
        if !write_only_allowed {
            // Terraform < 1.11 would store these in state (or reject our null plan):
            // say so up front instead.
            for a in e.s.schema.block.attributes.iter().filter(|a| a.write_only) {
                if !config.get(&a.name).is_null() {
                    d.attribute_error(
                        AttributePath::attr(&a.name),
                        "Write-only attribute not supported",
                        format!(
                            "{} is write-only, which needs Terraform 1.11 or later.",
                            a.name
                        ),
                    );
                }
            }
        }
        let ctx = self.context(false);
        guard("validate", e.imp.validate(&ctx, config))
            .await
            .map(|x| d.extend(x))
            .collect_into(&mut d);
        d
    }

    /// `UpgradeResourceState`: stored JSON (or legacy flatmap) written by schema `version`
    /// to a value of the current schema, through the type's upgrader when older.
    pub fn upgrade_state(
        &self,
        name: &str,
        version: i64,
        json: &[u8],
        flatmap: &HashMap<String, String>,
    ) -> (Option<Value>, Diagnostics) {
        let mut d = Diagnostics::new();
        let v = self.upgrade_state_inner(name, version, json, flatmap, &mut d);
        (v, d)
    }

    fn upgrade_state_inner(
        &self,
        name: &str,
        version: i64,
        json: &[u8],
        flatmap: &HashMap<String, String>,
        d: &mut Diagnostics,
    ) -> Option<Value> {
        let e = self.resource(name).collect_into(d)?;
        let current = e.s.schema.version;
        if version > current {
            d.error(
                "Resource state from a newer provider",
                format!("The state was written with schema version {version}, but this provider only knows up to {current}."),
            );
            return None;
        }
        if !json.is_empty() {
            let bad = |err: RawStateError| stored_json_error(&err, current);
            if version == current {
                // The common case (every object on every plan): one pass, no intermediate tree,
                // the same value and errors as parsing first.
                return raw_state::decode_json_state(&e.s.ty, json)
                    .map_err(bad)
                    .collect_into(d);
            }
            let j = raw_state::parse_json(json).map_err(bad).collect_into(d)?;
            let res =
                guard_sync("upgrade_state", || e.imp.upgrade_state(version, j)).collect_into(d)?;
            let j = res.collect_into(d)?;
            raw_state::from_json_state(&e.s.ty, &j)
                .map_err(bad)
                .collect_into(d)
        } else if !flatmap.is_empty() {
            if version < current {
                d.error(
                    "Unsupported legacy state",
                    format!("Flatmap state from schema version {version} cannot be upgraded to {current}; re-import the resource."),
                );
                return None;
            }
            raw_state::from_flatmap(&e.s.ty, flatmap)
                .map_err(|err| Diagnostic::error("Invalid legacy flatmap state", err.to_string()))
                .collect_into(d)
        } else {
            Some(Value::Null)
        }
    }

    /// `UpgradeResourceIdentity`: stored identity JSON to a value of the identity schema.
    pub fn upgrade_identity(
        &self,
        name: &str,
        version: i64,
        json: &[u8],
    ) -> (Option<Value>, Diagnostics) {
        let mut d = Diagnostics::new();
        let out = (|| {
            let e = self.resource(name).collect_into(&mut d)?;
            let Some((schema, ty)) = &e.identity else {
                d.error(
                    "Resource has no identity",
                    format!("{name} does not define a resource identity schema."),
                );
                return None;
            };
            if version != schema.version {
                d.error(
                    "Unable to upgrade resource identity",
                    format!(
                        "Identity schema version {version} cannot be converted to {}.",
                        schema.version
                    ),
                );
                return None;
            }
            let j = raw_state::parse_json(json)
                .map_err(|e| Diagnostic::error("Invalid stored identity", e.to_string()))
                .collect_into(&mut d)?;
            raw_state::from_json_state(ty, &j)
                .map_err(|e| state_error("Invalid stored identity", e.to_string(), &e))
                .collect_into(&mut d)
        })();
        (out, d)
    }

    /// `ReadResource`: refresh. A null state stays null without calling the type; while
    /// the provider configuration is unknown the state is kept, with a warning.
    pub async fn read(
        &self,
        name: &str,
        state: Value,
        private_bytes: &[u8],
        identity: Option<Value>,
        deferral_allowed: bool,
    ) -> ReadOutput {
        let mut out = ReadOutput {
            private: private_bytes.to_vec(),
            identity: identity.clone(),
            ..Default::default()
        };
        let d = &mut out.diagnostics;
        let Some(e) = self.resource(name).collect_into(d) else {
            out.new_state = state;
            return out;
        };
        if state.is_null() {
            return out;
        }
        if self.configuration_unknown() {
            // Provider settings come from resources not applied yet: keep the state rather
            // than failing the whole plan; the refresh happens on a later run.
            d.warning(
                format!("{name} not refreshed"),
                "The provider configuration depends on values known only after apply, so this \
                 object's state was not refreshed in this run.",
            );
            out.new_state = state;
            return out;
        }
        let inputs = private_marked(private_bytes, "private state")
            .collect_into(d)
            .zip(self.data(&format!("read {name}")).collect_into(d));
        let Some(((priv_state, after_import), data)) = inputs else {
            out.new_state = state;
            return out;
        };
        let ctx = self.context(deferral_allowed);
        // The state is moved, not copied: a failed read keeps the current one by `unchanged`.
        let req = ReadRequest {
            state,
            private: priv_state,
            identity: identity.clone(),
        };
        match guard("read", e.imp.read(&ctx, &data, req)).await {
            Ok(Ok(res)) => {
                d.extend(res.diagnostics);
                // An unchanged state is what Terraform sent (already of the schema's type, with
                // no unknown or write-only values): nothing to fit, check or scrub.
                let mut new_state = Value::Null;
                if !res.unchanged {
                    new_state = fit(res.new_state, &e.s.ty, d);
                    if !d.has_errors() {
                        d.extend(check::read_result(&e.s.schema, &e.s.ty, &new_state));
                    }
                    scrub_unknowns(&mut new_state);
                    scrub_write_only(&e.s.schema.block, &mut new_state);
                }
                out.identity = if !res.unchanged && new_state.is_null() {
                    None // gone: nothing to identify
                } else {
                    let op = if after_import {
                        Op::ReadAfterImport
                    } else {
                        Op::Read
                    };
                    let ty = e.identity.as_ref().map(|(_, t)| t);
                    let stored = self.identities_stored();
                    identity::settle(name, ty, op, res.identity, identity.as_ref(), stored, d)
                };
                out.new_state = new_state;
                out.unchanged = res.unchanged;
                out.private = res.private.to_bytes();
            }
            Ok(Err(errs)) => {
                d.extend(errs);
                out.unchanged = true;
            }
            Err(p) => {
                d.push(p);
                out.unchanged = true;
            }
        }
        out
    }

    /// `PlanResourceChange`: the declarative plan, the type's `modify_plan`, then the
    /// consistency checks. A destroy plan (null proposed state) is null. The planned identity
    /// is the prior one unless `modify_plan` plans one for a create.
    #[allow(clippy::too_many_arguments)] // one per request field, as Terraform sends them
    pub async fn plan(
        &self,
        name: &str,
        prior: Value,
        proposed: Value,
        config: Value,
        prior_private: &[u8],
        prior_identity: Option<Value>,
        deferral_allowed: bool,
    ) -> PlanOutput {
        let mut out = PlanOutput {
            planned_private: prior_private.to_vec(),
            planned_identity: prior_identity.clone(),
            ..Default::default()
        };
        let d = &mut out.diagnostics;
        let Some(e) = self.resource(name).collect_into(d) else {
            return out;
        };
        let Some(prior_private) = private(prior_private, "prior private state").collect_into(d)
        else {
            return out;
        };
        if proposed.is_null() {
            return out;
        }
        let planned = plan::plan_resource_change(&e.s.schema, &prior, proposed, &config);
        let req = PlanRequest {
            config,
            prior_state: prior,
            prior_private: prior_private.clone(),
            prior_identity: prior_identity.clone(),
        };
        let mut resp = PlanResponse {
            planned_state: planned.planned_state,
            requires_replace: planned.requires_replace,
            planned_private: prior_private,
            planned_identity: prior_identity.clone(),
            diagnostics: planned.diagnostics,
        };
        let data = self.data_if_ready();
        let ctx = self.context(deferral_allowed);
        if let Some(r) = guard(
            "modify_plan",
            e.imp.modify_plan(&ctx, data.as_deref(), &req, &mut resp),
        )
        .await
        .collect_into(d)
        {
            r.collect_into(d);
        }
        d.extend(std::mem::take(&mut resp.diagnostics));
        let planned_state = fit(resp.planned_state, &e.s.ty, d);
        if !d.has_errors() {
            d.extend(check::check_plan(
                &e.s.schema,
                &req.prior_state,
                &req.config,
                &planned_state,
            ));
        }
        let op = if req.prior_state.is_null() {
            Op::PlanCreate
        } else {
            Op::PlanUpdate
        };
        let ty = e.identity.as_ref().map(|(_, t)| t);
        out.planned_identity = identity::settle(
            name,
            ty,
            op,
            resp.planned_identity,
            prior_identity.as_ref(),
            self.identities_stored(),
            d,
        );
        out.planned_state = planned_state;
        out.requires_replace = resp.requires_replace;
        out.planned_private = resp.planned_private.to_bytes();
        out
    }

    /// `ApplyResourceChange`: create (null prior), update, or delete (null planned).
    ///
    /// On failure nothing is lost: a failed delete or update keeps the prior state, a
    /// create that returned a state with its error records that state.
    pub async fn apply(
        &self,
        name: &str,
        prior: Value,
        planned: Value,
        config: Value,
        planned_private: &[u8],
        planned_identity: Option<Value>,
    ) -> ApplyOutput {
        let mut out = ApplyOutput {
            new_state: prior.clone(),
            private: planned_private.to_vec(),
            identity: planned_identity.clone(),
            ..Default::default()
        };
        let d = &mut out.diagnostics;
        let Some(e) = self.resource(name).collect_into(d) else {
            return out;
        };
        let verb = match (prior.is_null(), planned.is_null()) {
            (_, true) => "delete",
            (true, false) => "create",
            (false, false) => "update",
        };
        let inputs = private(planned_private, "planned private state")
            .collect_into(d)
            .zip(self.data(&format!("{verb} {name}")).collect_into(d));
        let Some((planned_private, data)) = inputs else {
            return out;
        };
        let ctx = self.context(false);
        if planned.is_null() {
            let req = DeleteRequest {
                prior_state: prior,
                private: planned_private,
                identity: planned_identity,
            };
            match guard("delete", e.imp.delete(&ctx, &data, req)).await {
                Ok(Ok(())) => {
                    out.new_state = Value::Null;
                    out.private = Vec::new();
                    out.identity = None;
                }
                Ok(Err(errs)) => d.extend(errs),
                Err(p) => d.push(p),
            }
            return out;
        }
        let creating = prior.is_null();
        let result = if creating {
            // a create that fails with no state made nothing
            out.new_state = Value::Null;
            out.identity = None;
            let req = CreateRequest {
                config,
                planned_state: planned.clone(),
                planned_private,
                identity: planned_identity.clone(),
            };
            guard("create", e.imp.create(&ctx, &data, req)).await
        } else {
            let req = UpdateRequest {
                config,
                prior_state: prior,
                planned_state: planned.clone(),
                planned_private,
                identity: planned_identity.clone(),
            };
            guard("update", e.imp.update(&ctx, &data, req)).await
        };
        match result {
            Ok(Ok(res)) => {
                d.extend(res.diagnostics);
                let mut new_state = fit(res.new_state, &e.s.ty, d);
                if !d.has_errors() {
                    d.extend(check::apply_result(
                        &e.s.schema,
                        &e.s.ty,
                        &planned,
                        &new_state,
                    ));
                }
                scrub_unknowns(&mut new_state);
                scrub_write_only(&e.s.schema.block, &mut new_state);
                let (op, keep) = if creating {
                    // a planned identity stands in only where the plan knew it wholly
                    let known = planned_identity.as_ref().filter(|v| v.is_wholly_known());
                    (Op::Create, known)
                } else {
                    (Op::Update, planned_identity.as_ref())
                };
                let ty = e.identity.as_ref().map(|(_, t)| t);
                let stored = self.identities_stored();
                out.identity = identity::settle(name, ty, op, res.identity, keep, stored, d);
                out.new_state = new_state;
                out.private = res.private.to_bytes();
            }
            Ok(Err(errs)) => d.extend(errs),
            Err(p) => d.push(p),
        }
        out
    }

    /// `ImportResourceState`: the type's import, by ID or by identity; attributes it left out
    /// are null. The private state it returns carries the framework's import marker, so the
    /// read that follows may complete the identity.
    pub async fn import(&self, name: &str, by: ImportBy, deferral_allowed: bool) -> ImportOutput {
        let mut out = ImportOutput::default();
        let d = &mut out.diagnostics;
        let Some(e) = self.resource(name).collect_into(d) else {
            return out;
        };
        let id_ty = e.identity.as_ref().map(|(_, t)| t);
        if matches!(by, ImportBy::Identity(_)) && id_ty.is_none() {
            d.error(
                "Import by identity not supported",
                format!("{name} has no resource identity schema: import it by ID."),
            );
            return out;
        }
        let Some(data) = self.data(&format!("import {name}")).collect_into(d) else {
            return out;
        };
        let ctx = self.context(deferral_allowed);
        let req = ImportRequest { by };
        let Some(res) = guard("import", e.imp.import(&ctx, &data, req.clone()))
            .await
            .collect_into(d)
            .and_then(|r| r.collect_into(d))
        else {
            return out;
        };
        d.extend(res.diagnostics);
        if d.has_errors() {
            return out;
        }
        let mut state = res.state;
        if let (Value::Object(m), Type::Object(o)) = (&mut state, &e.s.ty) {
            for k in o.attrs.keys() {
                m.entry(k.clone()).or_insert(Value::Null);
            }
        }
        let mut state = fit(state, &e.s.ty, d);
        scrub_unknowns(&mut state);
        scrub_write_only(&e.s.schema.block, &mut state);
        if req.id().is_some() && is_fully_null(&state) && !d.has_errors() {
            // An import by identity may leave the state to the read; one by ID has nothing
            // else to go on.
            d.error(
                "Missing resource import state",
                format!(
                    "The import of {name} returned no state: it must set at least the attributes \
                     the read needs to find the object. This is a bug in the provider."
                ),
            );
            return out;
        }
        let identity = identity::settle(
            name,
            id_ty,
            Op::Import,
            res.identity,
            req.identity(),
            self.identities_stored(),
            d,
        );
        if d.has_errors() {
            return out;
        }
        let mut private = res.private;
        mark_imported(&mut private);
        out.imported = Some((state, private.to_bytes(), identity));
        out
    }

    /// `MoveResourceState`: state (and identity) of another type, as stored JSON, into this
    /// one; the result is fitted to this type's schema and identity schema.
    pub async fn move_state(&self, target: &str, source: MoveSource) -> MoveOutput {
        let mut out = MoveOutput::default();
        let d = &mut out.diagnostics;
        let Some(e) = self.resource(target).collect_into(d) else {
            return out;
        };
        let json = |bytes: &[u8], what: &str| {
            if bytes.is_empty() {
                Ok(None)
            } else {
                raw_state::parse_json(bytes)
                    .map(Some)
                    .map_err(|e| Diagnostic::error(format!("Invalid {what}"), e.to_string()))
            }
        };
        let state = json(&source.state_json, "source state").collect_into(d);
        let identity = json(&source.identity_json, "source identity").collect_into(d);
        let private = private(&source.private, "source private state").collect_into(d);
        let (Some(state), Some(source_identity), Some(source_private)) = (state, identity, private)
        else {
            return out;
        };
        let req = MoveStateRequest {
            source_provider_address: source.provider_address,
            source_type_name: source.type_name,
            source_schema_version: source.schema_version,
            source_state: state.unwrap_or(serde_json::Value::Null),
            source_private,
            source_identity,
            source_identity_schema_version: source.identity_schema_version,
        };
        let ctx = self.context(false);
        if let Some(res) = guard("move_state", e.imp.move_state(&ctx, req))
            .await
            .collect_into(d)
            .and_then(|r| r.collect_into(d))
        {
            d.extend(res.diagnostics);
            let mut state = fit(res.target_state, &e.s.ty, d);
            scrub_unknowns(&mut state);
            scrub_write_only(&e.s.schema.block, &mut state);
            let ty = e.identity.as_ref().map(|(_, t)| t);
            out.target_identity =
                identity::settle(target, ty, Op::Move, res.target_identity, None, true, d);
            out.target_state = Some(state);
            out.target_private = res.target_private.to_bytes();
        }
        out
    }

    /// `GenerateResourceConfig`: [`super::config_from_state`], then the type's own
    /// `generate_config`, whose answer is checked and fitted to the schema. `None` on error.
    pub fn generate_config(&self, name: &str, state: Value) -> (Option<Value>, Diagnostics) {
        let mut d = Diagnostics::new();
        let Some(e) = self.resource(name).collect_into(&mut d) else {
            return (None, d);
        };
        if state.is_null() {
            return (Some(Value::Null), d);
        }
        let default = config_from_state(&e.s.schema, &state);
        let Some(config) = guard_sync("generate_config", || e.imp.generate_config(&state, default))
            .collect_into(&mut d)
            .and_then(|r| r.collect_into(&mut d))
        else {
            return (None, d);
        };
        let mut config = fit(config, &e.s.ty, &mut d);
        scrub_unknowns(&mut config);
        d.extend(check_config(name, &e.s.schema, &config));
        if d.has_errors() {
            return (None, d);
        }
        (Some(config), d)
    }
}
