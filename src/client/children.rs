//! The synchronous sub-resources of an instance: databases, users and firewall rules under
//! `/instances/{name}/<segment>`. The API answers each write with the record itself (201/200/204),
//! never with an operation, so these calls are the whole lifecycle.
//!
//! One set of calls serves the three kinds; the record and body types say which fields each has.
//! A 404 means the record or its instance is gone, and the API does not say which: both read as
//! "not there" ([`Client::get_child`] → `None`, [`Client::delete_child`] → done).

use std::collections::BTreeSet;

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{ApiError, Client, IdempotencyKey, decode, encode_segment};

/// Which kind of sub-resource a call is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildKind {
    Database,
    User,
    FirewallRule,
}

impl ChildKind {
    /// The collection's path segment.
    pub fn segment(self) -> &'static str {
        match self {
            ChildKind::Database => "databases",
            ChildKind::User => "users",
            ChildKind::FirewallRule => "firewallRules",
        }
    }

    /// The singular noun, for messages ("database").
    pub fn noun(self) -> &'static str {
        match self {
            ChildKind::Database => "database",
            ChildKind::User => "user",
            ChildKind::FirewallRule => "firewall rule",
        }
    }
}

/// A database as the API returns it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct Database {
    pub name: String,
    pub instance: String,
    pub charset: String,
    pub collation: String,
    pub creation_token: String,
}

/// A user as the API returns it (the API never returns a password).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct User {
    pub name: String,
    pub instance: String,
    pub roles: BTreeSet<String>,
    pub creation_token: String,
}

/// A firewall rule as the API returns it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct FirewallRule {
    pub name: String,
    pub instance: String,
    pub cidr: String,
    pub description: String,
    pub creation_token: String,
}

/// What every sub-resource record has: its name and the Idempotency-Key that created it.
pub trait ChildRecord: DeserializeOwned + Send + Sync {
    fn name(&self) -> &str;
    fn creation_token(&self) -> &str;
}

macro_rules! child_record {
    ($($t:ty),*) => {$(
        impl ChildRecord for $t {
            fn name(&self) -> &str {
                &self.name
            }
            fn creation_token(&self) -> &str {
                &self.creation_token
            }
        }
    )*};
}
child_record!(Database, User, FirewallRule);

/// Body of a database create; unset charset and collation take the engine's defaults.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreateDatabase {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charset: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
}

/// Body of a database patch: only what changed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PatchDatabase {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charset: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
}

/// Body of a user create.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreateUser {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    pub roles: Vec<String>,
}

/// Body of a user patch: only what changed (`password` when it is to be re-sent).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PatchUser {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
}

/// Body of a firewall rule create.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreateFirewallRule {
    pub name: String,
    pub cidr: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Body of a firewall rule patch: only what changed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PatchFirewallRule {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cidr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// One page of `GET …/<segment>`: the items are under the segment's name (`databases`,
/// `users`, `firewallRules`).
#[derive(Debug, Deserialize)]
#[serde(bound = "T: DeserializeOwned")]
struct ChildPage<T> {
    #[serde(alias = "databases", alias = "users", alias = "firewallRules", default)]
    items: Vec<T>,
    #[serde(default)]
    next_page_token: Option<String>,
}

fn collection(kind: ChildKind, instance: &str) -> String {
    format!("/instances/{}/{}", encode_segment(instance), kind.segment())
}

fn item(kind: ChildKind, instance: &str, name: &str) -> String {
    format!("{}/{}", collection(kind, instance), encode_segment(name))
}

fn encode<B: Serialize>(kind: ChildKind, body: &B) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(body)
        .map_err(|e| ApiError::Config(format!("cannot encode {} request: {e}", kind.noun())))
}

impl Client {
    /// `GET …/<segment>/{name}`; `Ok(None)` when the record or its instance is gone.
    pub async fn get_child<T: ChildRecord>(
        &self,
        kind: ChildKind,
        instance: &str,
        name: &str,
    ) -> Result<Option<T>, ApiError> {
        let path = item(kind, instance, name);
        match self.send(Method::GET, &path, &[], None, None, None).await {
            Ok(reply) => Ok(Some(decode(&reply, &self.secrets(None))?)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One page of `GET …/<segment>` (at most `page_size` records, in name order). `Ok(None)`
    /// when the instance does not exist.
    pub async fn list_children_page<T: ChildRecord>(
        &self,
        kind: ChildKind,
        instance: &str,
        page_size: u64,
        token: Option<String>,
    ) -> Result<Option<super::Page<T>>, ApiError> {
        let mut query = vec![(
            "page_size",
            page_size.clamp(1, super::MAX_PAGE_SIZE).to_string(),
        )];
        if let Some(t) = token {
            query.push(("page_token", t));
        }
        let path = collection(kind, instance);
        match self
            .send(Method::GET, &path, &query, None, None, None)
            .await
        {
            Ok(reply) => {
                let page: ChildPage<T> = decode(&reply, &self.secrets(None))?;
                Ok(Some(super::Page::new(page.items, page.next_page_token)))
            }
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `POST …/<segment>` → the created record. Retried with the same key; a failure after the
    /// retries is ambiguous, and the caller looks the record up and compares its `creation_token`.
    pub async fn create_child<B: Serialize, T: ChildRecord>(
        &self,
        kind: ChildKind,
        instance: &str,
        body: &B,
        key: &IdempotencyKey,
    ) -> Result<T, ApiError> {
        let body = encode(kind, body)?;
        let secrets = self.secrets(Some(&body));
        let path = collection(kind, instance);
        let reply = self
            .send(Method::POST, &path, &[], Some(body), Some(key), None)
            .await?;
        decode(&reply, &secrets)
    }

    /// `PATCH …/<segment>/{name}` → the updated record.
    pub async fn update_child<B: Serialize, T: ChildRecord>(
        &self,
        kind: ChildKind,
        instance: &str,
        name: &str,
        body: &B,
        key: &IdempotencyKey,
    ) -> Result<T, ApiError> {
        let body = encode(kind, body)?;
        let secrets = self.secrets(Some(&body));
        let path = item(kind, instance, name);
        let reply = self
            .send(Method::PATCH, &path, &[], Some(body), Some(key), None)
            .await?;
        decode(&reply, &secrets)
    }

    /// `DELETE …/<segment>/{name}`; a 404 (record or instance already gone) is success.
    pub async fn delete_child(
        &self,
        kind: ChildKind,
        instance: &str,
        name: &str,
        key: &IdempotencyKey,
    ) -> Result<(), ApiError> {
        let path = item(kind, instance, name);
        match self
            .send(Method::DELETE, &path, &[], None, Some(key), None)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }
}
