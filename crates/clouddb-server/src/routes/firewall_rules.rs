//! `/v1/projects/{project}/instances/{name}/firewallRules`: allowed client networks (name, CIDR,
//! description). Handlers are the generic ones of `children`.

use serde::Deserialize;
use serde_json::{Value, json};

use super::children::{ChildWrite, Kind, MAX_PER_INSTANCE, fail_if};
use crate::engine::backend::{Change, access_rule};
use crate::error::{ApiResult, FieldViolation};
use crate::model::{Instance, valid_cidr, valid_instance_name};

/// The `firewallRules` sub-resource.
pub static FIREWALL_RULES: Kind<FwCreate, FwPatch> = Kind {
    segment: "firewallRules",
    noun: "firewall rule",
    create: fw_create,
    patch: fw_patch,
    limit: MAX_PER_INSTANCE,
    create_secret: |_| None,
    patch_secret: |_| None,
    engine_change: fw_engine,
};

/// Every write makes the instance's whole rule set the engine's allowed TCP sources.
fn fw_engine(w: &ChildWrite<'_>) -> Option<Change> {
    Some(Change::AccessRules(
        w.all.iter().filter_map(access_rule).collect(),
    ))
}

/// The body of a firewall rule create: `name` and `cidr` are required (checked by the handler).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FwCreate {
    name: Option<String>,
    cidr: Option<String>,
    description: Option<String>,
}

/// The body of a firewall rule patch: the fields sent change.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FwPatch {
    cidr: Option<String>,
    description: Option<String>,
}

fn check_fw(cidr: &Option<String>, description: &Option<String>, v: &mut Vec<FieldViolation>) {
    if let Some(c) = cidr
        && !valid_cidr(c)
    {
        v.push(FieldViolation::new(
            "cidr",
            "must be an IPv4 or IPv6 CIDR such as 10.0.0.0/8",
        ));
    }
    if let Some(d) = description
        && d.chars().count() > 256
    {
        v.push(FieldViolation::new("description", "at most 256 characters"));
    }
}

fn fw_create(inst: &Instance, r: FwCreate, now: &str) -> ApiResult<(String, Value)> {
    let mut v = Vec::new();
    let name = r.name.clone().unwrap_or_default();
    if !valid_instance_name(&name) {
        v.push(FieldViolation::new(
            "name",
            "required, must match ^[a-z][a-z0-9-]{1,61}[a-z0-9]$",
        ));
    }
    if r.cidr.is_none() {
        v.push(FieldViolation::new("cidr", "is required"));
    }
    check_fw(&r.cidr, &r.description, &mut v);
    fail_if(v)?;
    Ok((
        name.clone(),
        json!({"name": name, "instance": inst.name, "cidr": r.cidr, "description": r.description.unwrap_or_default(),
               "created_at": now, "updated_at": now}),
    ))
}

fn fw_patch(_inst: &Instance, rec: &mut Value, r: FwPatch) -> ApiResult<()> {
    let mut v = Vec::new();
    check_fw(&r.cidr, &r.description, &mut v);
    fail_if(v)?;
    if let Some(c) = r.cidr {
        rec["cidr"] = json!(c);
    }
    if let Some(d) = r.description {
        rec["description"] = json!(d);
    }
    Ok(())
}
