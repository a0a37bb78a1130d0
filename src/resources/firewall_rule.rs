//! `clouddb_firewall_rule`: a client network allowed to connect to an instance. The CIDR is checked
//! at plan time with the API's own rule (IPv4 or IPv6 address, `/`, a plain decimal prefix that
//! fits the family), so a typo names itself before anything is sent. The lifecycle is
//! [`ChildResource`]'s.

use serde::{Deserialize, Serialize};
use tfplugin::diag::Diagnostics;
use tfplugin::model::{Field, TimeoutsModel};
use tfplugin::schema::{Attribute, Schema, timeouts};
use tfplugin::value::{AttributePath, Value};

use super::child::{ChildResource, ChildType, child_model, parent_instance};
use super::common::{child_id_attribute, instance_attribute};
use crate::client::children::{ChildKind, CreateFirewallRule, FirewallRule, PatchFirewallRule};
use crate::resources::instance::valid_name;

/// The resource type.
pub type FirewallRuleResource = ChildResource<FirewallRuleType>;

/// The `clouddb_firewall_rule` model: one field per schema attribute.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FirewallRuleModel {
    pub id: Field<String>,
    pub instance: Field<String>,
    pub name: Field<String>,
    pub cidr: Field<String>,
    pub description: Field<String>,
    pub timeouts: Field<TimeoutsModel>,
}
child_model!(FirewallRuleModel);

/// Most characters of a description (the API's limit).
const MAX_DESCRIPTION: usize = 256;

/// Whether `s` is a CIDR the API accepts: `ADDRESS/PREFIX` with an IPv4 or IPv6 address and a
/// prefix written in plain decimal (no sign, no leading zero) of at most 32 or 128.
pub fn valid_cidr(s: &str) -> bool {
    let Some((addr, digits)) = s.split_once('/') else {
        return false;
    };
    let Ok(prefix) = digits.parse::<u8>() else {
        return false;
    };
    if prefix.to_string() != digits {
        return false;
    }
    if addr.parse::<std::net::Ipv4Addr>().is_ok() {
        prefix <= 32
    } else if addr.parse::<std::net::Ipv6Addr>().is_ok() {
        prefix <= 128
    } else {
        false
    }
}

fn check_cidr(p: &AttributePath, v: &Value, d: &mut Diagnostics) {
    if let Some(s) = v.as_str()
        && !valid_cidr(s)
    {
        d.attribute_error(
            p.clone(),
            "Invalid CIDR",
            format!(
                "{s:?} is not an IPv4 or IPv6 CIDR: write an address, '/', and a prefix length, such \
                 as 10.0.0.0/8 or 2001:db8::/32."
            ),
        );
    }
}

/// The `clouddb_firewall_rule` description for [`ChildResource`].
pub struct FirewallRuleType;

impl ChildType for FirewallRuleType {
    type Model = FirewallRuleModel;
    type Record = FirewallRule;
    type Create = CreateFirewallRule;
    type Patch = PatchFirewallRule;
    const TYPE_NAME: &'static str = "clouddb_firewall_rule";
    const KIND: ChildKind = ChildKind::FirewallRule;

    fn schema() -> Schema {
        Schema::new()
            .description("A client network allowed to connect to a CloudDB instance.")
            .attribute(child_id_attribute())
            .attribute(instance_attribute("firewall rule"))
            .attribute(
                Attribute::string("name")
                    .required()
                    .requires_replace()
                    .validate_with("3-63 of a-z, 0-9 and '-'", |p, v, d| {
                        if let Some(s) = v.as_str()
                            && !valid_name(s)
                        {
                            d.attribute_error(
                                p.clone(),
                                "Invalid firewall rule name",
                                format!(
                                    "{s:?} is not a valid rule name: 3 to 63 lowercase letters, digits \
                                     and hyphens, starting with a letter and not ending with a hyphen."
                                ),
                            );
                        }
                    })
                    .description("Rule name, unique in the instance. Changing it replaces the rule."),
            )
            .attribute(
                Attribute::string("cidr")
                    .required()
                    .validate_with("an IPv4 or IPv6 CIDR", check_cidr)
                    .description("The allowed network, e.g. `10.0.0.0/8` or `2001:db8::/32`. Changes in place."),
            )
            .attribute(
                Attribute::string("description")
                    .optional()
                    .validate_with("at most 256 characters", |p, v, d| {
                        if let Some(s) = v.as_str()
                            && s.chars().count() > MAX_DESCRIPTION
                        {
                            d.attribute_error(
                                p.clone(),
                                "Description too long",
                                format!(
                                    "A description has at most {MAX_DESCRIPTION} characters; this one has {}.",
                                    s.chars().count()
                                ),
                            );
                        }
                    })
                    .description("Free text. Changes in place."),
            )
            .block(timeouts::block(&["create", "update", "delete"]))
    }

    fn create_body(planned: &FirewallRuleModel, _config: &FirewallRuleModel) -> CreateFirewallRule {
        CreateFirewallRule {
            name: planned.name.known_or(String::new()),
            cidr: planned.cidr.known_or(String::new()),
            description: planned.description.as_str().map(str::to_string),
        }
    }

    fn patch_body(
        prior: &FirewallRuleModel,
        planned: &FirewallRuleModel,
        _config: &FirewallRuleModel,
    ) -> Option<PatchFirewallRule> {
        let mut patch = PatchFirewallRule::default();
        if let Some(c) = planned.cidr.as_str()
            && prior.cidr.as_str() != Some(c)
        {
            patch.cidr = Some(c.to_string());
        }
        // A removed description is cleared (the API's "no description" is the empty string).
        let new = planned.description.as_str().unwrap_or_default();
        if prior.description.as_str().unwrap_or_default() != new {
            patch.description = Some(new.to_string());
        }
        (patch != PatchFirewallRule::default()).then_some(patch)
    }

    fn state(rec: &FirewallRule, known: Option<&FirewallRuleModel>) -> FirewallRuleModel {
        let instance = parent_instance(&rec.instance, known);
        // The API's empty description is the configuration's "unset", unless it says "".
        let description = match known.map(|k| &k.description) {
            Some(Field::Known(d)) if d.is_empty() && rec.description.is_empty() => {
                Field::Known(String::new())
            }
            _ if rec.description.is_empty() => Field::Null,
            _ => Field::Known(rec.description.clone()),
        };
        FirewallRuleModel {
            id: Field::Known(format!("{instance}/{}", rec.name)),
            instance: Field::Known(instance),
            name: Field::Known(rec.name.clone()),
            cidr: Field::Known(rec.cidr.clone()),
            description,
            timeouts: known.map(|k| k.timeouts.clone()).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs() {
        for good in [
            "10.0.0.0/8",
            "0.0.0.0/0",
            "192.168.1.7/32",
            "2001:db8::/32",
            "::/0",
            "::1/128",
        ] {
            assert!(valid_cidr(good), "{good}");
        }
        for bad in [
            "10.0.0.0",
            "10.0.0.0/33",
            "10.0.0/8",
            "10.0.0.0/08",
            "10.0.0.0/+8",
            "::/129",
            "example.com/8",
            "",
            "/8",
            "10.0.0.0/8/8",
        ] {
            assert!(!valid_cidr(bad), "{bad}");
        }
    }

    fn model(desc: Field<String>) -> FirewallRuleModel {
        FirewallRuleModel {
            id: Field::Known("db/office".into()),
            instance: Field::Known("db".into()),
            name: Field::Known("office".into()),
            cidr: Field::Known("10.0.0.0/8".into()),
            description: desc,
            timeouts: Field::Null,
        }
    }

    #[test]
    fn schema_is_consistent_and_fits_the_model() {
        let s = FirewallRuleType::schema();
        assert!(s.check().is_ok(), "{:?}", s.check());
        let m = model(Field::Known("x".into()));
        let v = Value::from_model(&m).expect("writes");
        let v = tfplugin::model::conform(v, &s.implied_type()).expect("fits the schema");
        assert_eq!(v.to::<FirewallRuleModel>().ok(), Some(m));
    }

    #[test]
    fn removing_the_description_clears_it() {
        let prior = model(Field::Known("office".into()));
        let planned = model(Field::Null);
        let patch = FirewallRuleType::patch_body(&prior, &planned, &planned).expect("a change");
        assert_eq!(patch.description.as_deref(), Some(""));
        assert_eq!(patch.cidr, None);
        assert_eq!(
            FirewallRuleType::patch_body(&planned, &planned, &planned),
            None
        );
    }

    #[test]
    fn an_empty_description_reads_as_unset() {
        let rec = FirewallRule {
            name: "office".into(),
            instance: "db".into(),
            cidr: "10.0.0.0/8".into(),
            ..Default::default()
        };
        assert!(FirewallRuleType::state(&rec, None).description.is_null());
        let kept = FirewallRuleType::state(&rec, Some(&model(Field::Known(String::new()))));
        assert_eq!(kept.description.as_str(), Some(""));
    }
}
