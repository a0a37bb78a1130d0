//! Resource identities (Terraform ≥ 1.12): the small objects that name a remote object
//! independently of its state. Terraform stores them beside state, imports by them
//! (`import { identity = { … } }`) and lists by them (`terraform query`).
//!
//! Every identity carries the provider's configured project, so that an identity copied from
//! another project's state (or typed by hand) is refused instead of silently importing a
//! same-named object of this project. `project` is optional for import: left out, it means the
//! configured one. Identities are version 0 and never change for the life of an object (the
//! framework checks that every handler returns the same one).

use serde::{Deserialize, Serialize};
use tfplugin::diag::{Diagnostic, Diagnostics};
use tfplugin::schema::{IdentityAttribute, IdentitySchema};
use tfplugin::value::{Type, Value};

use crate::client::Client;

fn project_attribute() -> IdentityAttribute {
    IdentityAttribute::optional("project", Type::String).description(
        "The CloudDB project; when importing, it defaults to the provider's and must equal it.",
    )
}

/// `clouddb_instance`: `project`, `name`.
pub fn instance_schema() -> IdentitySchema {
    IdentitySchema::new()
        .attribute(project_attribute())
        .attribute(IdentityAttribute::required("name", Type::String).description("Instance name."))
}

/// `clouddb_database`, `clouddb_user`, `clouddb_firewall_rule`: `project`, `instance`, `name`.
pub fn child_schema(noun: &str) -> IdentitySchema {
    IdentitySchema::new()
        .attribute(project_attribute())
        .attribute(
            IdentityAttribute::required("instance", Type::String)
                .description(format!("Name of the instance the {noun} belongs to.")),
        )
        .attribute(
            IdentityAttribute::required("name", Type::String)
                .description(format!("Name of the {noun}.")),
        )
}

/// `clouddb_backup`: `project`, `name` (backups are project-level).
pub fn backup_schema() -> IdentitySchema {
    IdentitySchema::new()
        .attribute(project_attribute())
        .attribute(IdentityAttribute::required("name", Type::String).description("Backup name."))
}

/// The identity of a `clouddb_instance`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceIdentity {
    pub project: Option<String>,
    pub name: String,
}

/// The identity of an instance sub-resource.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChildIdentity {
    pub project: Option<String>,
    pub instance: String,
    pub name: String,
}

/// The identity of a `clouddb_backup`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BackupIdentity {
    pub project: Option<String>,
    pub name: String,
}

impl InstanceIdentity {
    pub fn new(client: &Client, name: &str) -> Self {
        InstanceIdentity {
            project: Some(client.project().to_string()),
            name: name.to_string(),
        }
    }
}

impl ChildIdentity {
    pub fn new(client: &Client, instance: &str, name: &str) -> Self {
        ChildIdentity {
            project: Some(client.project().to_string()),
            instance: instance.to_string(),
            name: name.to_string(),
        }
    }
}

impl BackupIdentity {
    pub fn new(client: &Client, name: &str) -> Self {
        BackupIdentity {
            project: Some(client.project().to_string()),
            name: name.to_string(),
        }
    }
}

/// An identity model as the value Terraform gets.
pub fn to_value<M: Serialize>(identity: &M) -> Result<Value, Diagnostics> {
    Value::from_model(identity).map_err(Diagnostics::from)
}

/// The identity an `import { identity = … }` gave, checked against the configured project:
/// importing by another project's identity is refused, naming both (the provider can only see
/// its own project, so it would otherwise import a different object of the same name, or none).
pub fn imported<M>(
    value: &Value,
    client: &Client,
    type_name: &str,
    project: impl Fn(&M) -> Option<&str>,
) -> Result<M, Diagnostics>
where
    M: serde::de::DeserializeOwned,
{
    let identity: M = value.to().map_err(|e| {
        Diagnostics::from(Diagnostic::error(
            format!("Invalid {type_name} identity"),
            format!("The import identity does not fit the identity schema of {type_name}: {e}"),
        ))
    })?;
    match project(&identity) {
        Some(p) if p != client.project() => Err(Diagnostic::error(
            "Import identity names another project",
            format!(
                "The identity to import into {type_name} is in project {p:?}, but this provider is \
                 configured for project {:?}. Leave `project` out of the identity (it defaults to \
                 the provider's), or configure the provider for project {p:?}.",
                client.project()
            ),
        )
        .into()),
        _ => Ok(identity),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_schemas_pass_the_framework_check() {
        for s in [instance_schema(), child_schema("database"), backup_schema()] {
            assert_eq!(s.check(), Ok(()));
            assert_eq!(s.version, 0);
        }
    }

    #[test]
    fn identity_models_fit_their_schemas() {
        let client = crate::client::Client::new(crate::client::ClientConfig::new(
            "http://127.0.0.1:1",
            "t",
            "proj1",
        ))
        .expect("client");
        let fit = |v: Value, s: IdentitySchema| {
            tfplugin::model::conform(v, &s.implied_type()).expect("fits")
        };
        fit(
            to_value(&InstanceIdentity::new(&client, "db1")).expect("value"),
            instance_schema(),
        );
        fit(
            to_value(&ChildIdentity::new(&client, "db1", "app")).expect("value"),
            child_schema("database"),
        );
        fit(
            to_value(&BackupIdentity::new(&client, "b1")).expect("value"),
            backup_schema(),
        );
    }

    #[test]
    fn another_project_is_refused_naming_both() {
        let client = crate::client::Client::new(crate::client::ClientConfig::new(
            "http://127.0.0.1:1",
            "t",
            "proj1",
        ))
        .expect("client");
        let other = to_value(&InstanceIdentity {
            project: Some("other".into()),
            name: "db1".into(),
        })
        .expect("value");
        let err = imported::<InstanceIdentity>(&other, &client, "clouddb_instance", |i| {
            i.project.as_deref()
        })
        .expect_err("other project");
        let text = format!("{err:?}");
        assert!(
            text.contains("\\\"other\\\"") && text.contains("\\\"proj1\\\""),
            "{text}"
        );
        let none = to_value(&InstanceIdentity {
            project: None,
            name: "db1".into(),
        })
        .expect("value");
        let ok = imported::<InstanceIdentity>(&none, &client, "clouddb_instance", |i| {
            i.project.as_deref()
        })
        .expect("no project");
        assert_eq!(ok.name, "db1");
    }
}
