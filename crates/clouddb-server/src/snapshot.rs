//! What a backup keeps of its instance besides the data: the databases (name, charset, collation)
//! and users (name, roles) the instance had when the backup was taken, and how a restore gives them
//! back. Passwords are never stored, so restored users have none until one is set.
//!
//! The stored shapes of database and user records are built here ([`DatabaseSpec::record`],
//! [`UserSpec::record`]) for the API's creates too, so a restored child looks exactly like a created
//! one. `store` (which takes and replays snapshots) and `routes` (which creates children) both
//! depend on this module, and it depends on neither.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Storage kind (and path segment) of databases.
pub const DATABASES: &str = "databases";
/// Storage kind (and path segment) of users.
pub const USERS: &str = "users";

/// The restorable part of a database record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabaseSpec {
    pub name: String,
    pub charset: String,
    pub collation: String,
}

/// The restorable part of a user record (no password: it is never stored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserSpec {
    pub name: String,
    pub roles: Vec<String>,
}

/// The children of one instance at one point in time, each list ordered by name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub databases: Vec<DatabaseSpec>,
    pub users: Vec<UserSpec>,
}

impl DatabaseSpec {
    /// The stored record of this database on `instance`, created at `now` (RFC 3339). Its
    /// `creation_token` is empty: the create handler sets the POST's key, a restore has none.
    pub fn record(&self, instance: &str, now: &str) -> Value {
        json!({"name": self.name, "instance": instance, "charset": self.charset,
               "collation": self.collation, "created_at": now, "updated_at": now,
               "creation_token": ""})
    }

    /// The spec of a stored database record; `None` for a record that lacks a field (which only a
    /// hand-edited database could hold).
    pub fn from_record(v: &Value) -> Option<Self> {
        Some(Self {
            name: v["name"].as_str()?.into(),
            charset: v["charset"].as_str()?.into(),
            collation: v["collation"].as_str()?.into(),
        })
    }
}

impl UserSpec {
    /// The stored record of this user on `instance`, created at `now` (RFC 3339); `creation_token`
    /// as for [`DatabaseSpec::record`].
    pub fn record(&self, instance: &str, now: &str) -> Value {
        json!({"name": self.name, "instance": instance, "roles": self.roles,
               "created_at": now, "updated_at": now, "creation_token": ""})
    }

    /// The spec of a stored user record (see [`DatabaseSpec::from_record`]).
    pub fn from_record(v: &Value) -> Option<Self> {
        let roles = v["roles"]
            .as_array()?
            .iter()
            .map(|r| r.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()?;
        Some(Self {
            name: v["name"].as_str()?.into(),
            roles,
        })
    }
}

impl Snapshot {
    /// The fields a backup record carries for this snapshot: the full lists (`databases`, `users`,
    /// what a restore replays) and their names alone (`database_names`, `user_names`, what a client
    /// usually wants to show).
    pub fn backup_fields(&self) -> [(&'static str, Value); 4] {
        let db_names: Vec<&str> = self.databases.iter().map(|d| d.name.as_str()).collect();
        let user_names: Vec<&str> = self.users.iter().map(|u| u.name.as_str()).collect();
        [
            ("databases", json!(self.databases)),
            ("users", json!(self.users)),
            ("database_names", json!(db_names)),
            ("user_names", json!(user_names)),
        ]
    }

    /// The snapshot a backup record carries. A list that is missing or malformed reads as empty:
    /// records written before snapshots existed are given empty lists by migration 0002, so this
    /// only tolerates hand-edited databases.
    pub fn from_backup(backup: &Value) -> Self {
        Self {
            databases: serde_json::from_value(backup["databases"].clone()).unwrap_or_default(),
            users: serde_json::from_value(backup["users"].clone()).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_through_the_spec() {
        let db = DatabaseSpec {
            name: "app".into(),
            charset: "utf8mb4".into(),
            collation: "utf8mb4_bin".into(),
        };
        let user = UserSpec {
            name: "reader".into(),
            roles: vec!["ro".into()],
        };
        let now = "2026-01-01T00:00:00Z";
        assert_eq!(
            DatabaseSpec::from_record(&db.record("db1", now)),
            Some(db.clone())
        );
        assert_eq!(
            UserSpec::from_record(&user.record("db1", now)),
            Some(user.clone())
        );
        assert_eq!(UserSpec::from_record(&json!({"name": "x"})), None);

        let snap = Snapshot {
            databases: vec![db],
            users: vec![user],
        };
        let mut backup = json!({});
        for (k, v) in snap.backup_fields() {
            backup[k] = v;
        }
        assert_eq!(backup["database_names"], json!(["app"]));
        assert_eq!(backup["user_names"], json!(["reader"]));
        assert_eq!(Snapshot::from_backup(&backup), snap);
        assert_eq!(Snapshot::from_backup(&json!({})), Snapshot::default());
    }
}
