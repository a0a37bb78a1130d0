//! `clouddb_user`: a database user of an instance, with roles and a password.
//!
//! The password is set either with `password` (sensitive, kept in state, changing it re-sends it)
//! or with the write-only `password_wo` (never stored anywhere by Terraform; Terraform 1.11+),
//! which is sent on create and again whenever `password_wo_version` changes — the only way the
//! provider can tell that a value it never sees in state has changed. The API never returns a
//! password, so drift of a password cannot be detected, and an import leaves both unset.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use tfplugin::diag::Diagnostics;
use tfplugin::model::{Field, TimeoutsModel};
use tfplugin::schema::{Attribute, Schema, timeouts};
use tfplugin::value::{AttributePath, Type, Value};

use super::child::{ChildResource, ChildType, child_model, parent_instance};
use super::common::{child_id_attribute, instance_attribute, valid_sql_name};
use crate::client::children::{ChildKind, CreateUser, PatchUser, User};

/// The resource type.
pub type UserResource = ChildResource<UserType>;

/// The `clouddb_user` model: one field per schema attribute.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserModel {
    pub id: Field<String>,
    pub instance: Field<String>,
    pub name: Field<String>,
    pub roles: Field<BTreeSet<String>>,
    pub password: Field<String>,
    pub password_wo: Field<String>,
    pub password_wo_version: Field<i64>,
    pub timeouts: Field<TimeoutsModel>,
}
child_model!(UserModel);

/// The API's password rule.
const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 8..=128;

fn check_password(p: &AttributePath, v: &Value, d: &mut Diagnostics) {
    if let Some(s) = v.as_str()
        && !PASSWORD_CHARS.contains(&s.chars().count())
    {
        // Never echo the value: it is a secret.
        d.attribute_error(
            p.clone(),
            "Invalid password",
            format!(
                "The password must be {} to {} characters long; it has {}.",
                PASSWORD_CHARS.start(),
                PASSWORD_CHARS.end(),
                s.chars().count()
            ),
        );
    }
}

fn check_roles(p: &AttributePath, v: &Value, d: &mut Diagnostics) {
    for r in v.as_list().into_iter().flatten() {
        if let Some(s) = r.as_str()
            && !valid_sql_name(s, 63)
        {
            d.attribute_error(
                p.clone(),
                "Invalid role",
                format!(
                    "Role {s:?} is not valid: 1 to 63 letters, digits and '_', not starting with a digit."
                ),
            );
        }
    }
}

/// The `clouddb_user` description for [`ChildResource`].
pub struct UserType;

fn roles_vec(roles: &Field<BTreeSet<String>>) -> Vec<String> {
    roles
        .known()
        .map(|r| r.iter().cloned().collect())
        .unwrap_or_default()
}

impl ChildType for UserType {
    type Model = UserModel;
    type Record = User;
    type Create = CreateUser;
    type Patch = PatchUser;
    const TYPE_NAME: &'static str = "clouddb_user";
    const KIND: ChildKind = ChildKind::User;

    fn schema() -> Schema {
        Schema::new()
            .description("A database user of a CloudDB instance.")
            .attribute(child_id_attribute())
            .attribute(instance_attribute("user"))
            .attribute(
                Attribute::string("name")
                    .required()
                    .requires_replace()
                    .validate_with("an SQL identifier of at most 32 characters", |p, v, d| {
                        if let Some(s) = v.as_str()
                            && !valid_sql_name(s, 32)
                        {
                            d.attribute_error(
                                p.clone(),
                                "Invalid user name",
                                format!(
                                    "{s:?} is not a valid user name: 1 to 32 letters, digits and '_', \
                                     not starting with a digit."
                                ),
                            );
                        }
                    })
                    .description("User name, unique in the instance. Changing it replaces the user."),
            )
            .attribute(
                Attribute::set("roles", Type::String)
                    .optional()
                    .validate_with("SQL identifiers", check_roles)
                    .description("Roles granted to the user. Changes in place."),
            )
            .attribute(
                Attribute::string("password")
                    .optional()
                    .sensitive()
                    .validate_with("8 to 128 characters", check_password)
                    .description(
                        "The user's password, kept (sensitive) in state; changing it re-sends it. \
                         Conflicts with `password_wo`.",
                    ),
            )
            .attribute(
                Attribute::string("password_wo")
                    .optional()
                    .sensitive()
                    .write_only()
                    .validate_with("8 to 128 characters", check_password)
                    .description(
                        "The user's password, write-only: Terraform never stores it in state or \
                         plans (Terraform 1.11 and later). Sent on create and whenever \
                         `password_wo_version` changes. Conflicts with `password`.",
                    ),
            )
            .attribute(
                Attribute::int64("password_wo_version")
                    .optional()
                    .description(
                        "Any number; change it to send `password_wo` again (Terraform cannot see \
                         a change of a write-only value). Requires `password_wo`.",
                    ),
            )
            .block(timeouts::block(&["create", "update", "delete"]))
    }

    fn validate(config: &UserModel) -> Diagnostics {
        let mut d = Diagnostics::new();
        if !config.password.is_null() && !config.password_wo.is_null() {
            for (attr, other) in [("password", "password_wo"), ("password_wo", "password")] {
                d.attribute_error(
                    AttributePath::attr(attr),
                    "Conflicting password attributes",
                    format!(
                        "`password` and `password_wo` cannot both be set: `{attr}` conflicts with \
                         `{other}`. Use `password_wo` (with `password_wo_version`) to keep the \
                         password out of state."
                    ),
                );
            }
        }
        if !config.password_wo_version.is_null() && config.password_wo.is_null() {
            d.attribute_error(
                AttributePath::attr("password_wo_version"),
                "password_wo_version without password_wo",
                "`password_wo_version` only says when to re-send `password_wo`; set `password_wo` \
                 too, or remove `password_wo_version`.",
            );
        }
        d
    }

    fn renamed_fields(config: &UserModel) -> &'static [(&'static str, &'static str)] {
        if config.password_wo.is_null() {
            &[]
        } else {
            &[("password", "password_wo")]
        }
    }

    fn create_body(planned: &UserModel, config: &UserModel) -> CreateUser {
        CreateUser {
            name: planned.name.known_or(String::new()),
            password: config
                .password_wo
                .as_str()
                .or(planned.password.as_str())
                .map(str::to_string),
            roles: roles_vec(&planned.roles),
        }
    }

    fn patch_body(prior: &UserModel, planned: &UserModel, config: &UserModel) -> Option<PatchUser> {
        let mut patch = PatchUser::default();
        if prior.roles.known() != planned.roles.known() {
            patch.roles = Some(roles_vec(&planned.roles));
        }
        if let Some(p) = planned.password.as_str()
            && prior.password.as_str() != Some(p)
        {
            patch.password = Some(p.to_string());
        }
        if planned.password_wo_version != prior.password_wo_version
            && let Some(p) = config.password_wo.as_str()
        {
            patch.password = Some(p.to_string());
        }
        (patch != PatchUser::default()).then_some(patch)
    }

    /// The API never returns a password, so no state holds the real one: generated
    /// configuration leaves `password` out (it plans no change, as after an import).
    fn generate_config(_state: &Value, config: Value) -> Result<Value, Diagnostics> {
        let mut m: UserModel = config.to()?;
        m.password = Field::Null;
        Ok(Value::from_model(&m)?)
    }

    fn state(rec: &User, known: Option<&UserModel>) -> UserModel {
        let instance = parent_instance(&rec.instance, known);
        // No roles reads as the user's "unset" when the configuration leaves roles out.
        let roles = match known.map(|k| &k.roles) {
            Some(Field::Null) | None if rec.roles.is_empty() => Field::Null,
            _ => Field::Known(rec.roles.clone()),
        };
        UserModel {
            id: Field::Known(format!("{instance}/{}", rec.name)),
            instance: Field::Known(instance),
            name: Field::Known(rec.name.clone()),
            roles,
            password: known.map(|k| k.password.clone()).unwrap_or_default(),
            password_wo: Field::Null,
            password_wo_version: known
                .map(|k| k.password_wo_version.clone())
                .unwrap_or_default(),
            timeouts: known.map(|k| k.timeouts.clone()).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> UserModel {
        UserModel {
            id: Field::Known("db/app".into()),
            instance: Field::Known("db".into()),
            name: Field::Known("app".into()),
            roles: Field::Known(["reader".to_string()].into()),
            password_wo: Field::Known("s3cret-pass".into()),
            password_wo_version: Field::Known(1),
            ..Default::default()
        }
    }

    #[test]
    fn schema_is_consistent_and_fits_the_model() {
        let s = UserType::schema();
        assert!(s.check().is_ok(), "{:?}", s.check());
        let v = Value::from_model(&model()).expect("writes");
        let v = tfplugin::model::conform(v, &s.implied_type()).expect("fits the schema");
        assert_eq!(v.to::<UserModel>().ok(), Some(model()));
    }

    #[test]
    fn both_passwords_name_both_attributes() {
        let mut m = model();
        m.password = Field::Unknown;
        let d = UserType::validate(&m);
        let text = format!("{d:?}");
        assert!(
            text.contains("\"password\"") && text.contains("\"password_wo\""),
            "{text}"
        );
        assert!(UserType::validate(&model()).is_empty());
    }

    #[test]
    fn version_without_password_wo_is_an_error() {
        let mut m = model();
        m.password_wo = Field::Null;
        assert!(!UserType::validate(&m).is_empty());
    }

    #[test]
    fn a_version_bump_re_sends_the_write_only_password_and_nothing_else() {
        let mut prior = model();
        prior.password_wo = Field::Null; // never in state
        let mut planned = prior.clone();
        assert_eq!(UserType::patch_body(&prior, &planned, &model()), None);
        planned.password_wo_version = Field::Known(2);
        let patch = UserType::patch_body(&prior, &planned, &model()).expect("a change");
        assert_eq!(patch.password.as_deref(), Some("s3cret-pass"));
        assert_eq!(patch.roles, None);
    }

    #[test]
    fn state_never_holds_the_write_only_password() {
        let rec = User {
            name: "app".into(),
            instance: "db".into(),
            roles: BTreeSet::new(),
            creation_token: String::new(),
        };
        let mut known = model();
        known.roles = Field::Null;
        let m = UserType::state(&rec, Some(&known));
        assert!(m.password_wo.is_null());
        assert!(m.roles.is_null());
        assert_eq!(m.password_wo_version, Field::Known(1));
        let imported = UserType::state(&rec, None);
        assert!(imported.password.is_null() && imported.password_wo_version.is_null());
    }
}
