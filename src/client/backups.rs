//! Backups: `POST /instances/{instance}/backups` (on-demand, synchronous), and the project-level
//! `GET`/`DELETE /backups/{name}` and `GET /backups[?instance=NAME]`.
//!
//! Backup names are unique per project and backups outlive their instance, so everything but the
//! create goes through the project-level paths: they keep answering after the instance is gone.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::{ApiError, Client, IdempotencyKey, decode, encode_segment};

/// A backup as the API returns it (`Backup` in docs/openapi.yaml). Named apart from
/// [`super::types::Backup`], which is an instance's automated-backup settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct BackupRecord {
    pub name: String,
    /// The instance's name when the backup was taken (it may since have been deleted).
    pub instance: String,
    pub instance_uid: String,
    /// `ON_DEMAND` or `FINAL`.
    #[serde(rename = "type")]
    pub kind: String,
    pub state: String,
    pub engine: String,
    pub engine_version: String,
    pub size_bytes: i64,
    pub description: String,
    pub created_at: String,
    /// The Idempotency-Key of the POST that took the backup (empty when the API does not
    /// report one): how an ambiguous create finds its backup.
    pub creation_token: String,
}

/// Body of `POST /instances/{instance}/backups`; unset fields are left to the API (it generates
/// a name).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CreateBackupRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// One page of `GET /backups`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct BackupPage {
    backups: Vec<BackupRecord>,
    next_page_token: Option<String>,
}

/// A list longer than this many pages is treated as a broken API (a page token that never
/// ends), not followed forever.
const MAX_PAGES: usize = 1000;

impl Client {
    /// `GET /backups/{name}`; `Ok(None)` on 404.
    pub async fn get_backup(&self, name: &str) -> Result<Option<BackupRecord>, ApiError> {
        let path = format!("/backups/{}", encode_segment(name));
        match self.send(Method::GET, &path, &[], None, None, None).await {
            Ok(reply) => Ok(Some(decode(&reply, &self.secrets(None))?)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `POST /instances/{instance}/backups` → the backup (201; the API takes it synchronously).
    ///
    /// Retried with the same key like every mutation. A failure that the client would retry
    /// (once the budget, deadline or a stop ends the retries), a transport error or an
    /// undecodable 2xx leaves open whether the backup was taken: the caller lists the instance's
    /// backups and looks for `creation_token == key`.
    pub async fn create_backup(
        &self,
        instance: &str,
        req: &CreateBackupRequest,
        key: &IdempotencyKey,
    ) -> Result<BackupRecord, ApiError> {
        let body = serde_json::to_vec(req)
            .map_err(|e| ApiError::Config(format!("cannot encode backup request: {e}")))?;
        let path = format!("/instances/{}/backups", encode_segment(instance));
        let reply = self
            .send(Method::POST, &path, &[], Some(body), Some(key), None)
            .await?;
        decode(&reply, &self.secrets(None))
    }

    /// `DELETE /backups/{name}`. `Ok(false)` when it was already gone (404).
    pub async fn delete_backup(&self, name: &str, key: &IdempotencyKey) -> Result<bool, ApiError> {
        let path = format!("/backups/{}", encode_segment(name));
        match self
            .send(Method::DELETE, &path, &[], None, Some(key), None)
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `GET /backups[?instance=NAME]`, following `next_page_token` to the end: every backup of
    /// the project (final backups of deleted instances included), or those of one instance name.
    pub async fn list_backups(
        &self,
        instance: Option<&str>,
    ) -> Result<Vec<BackupRecord>, ApiError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut query = vec![("page_size", "100".to_string())];
            if let Some(i) = instance {
                query.push(("instance", i.to_string()));
            }
            if let Some(t) = &token {
                query.push(("page_token", t.clone()));
            }
            let reply = self
                .send(Method::GET, "/backups", &query, None, None, None)
                .await?;
            let page: BackupPage = decode(&reply, &self.secrets(None))?;
            out.extend(page.backups);
            match page.next_page_token {
                // The same token again would loop forever.
                Some(t) if !t.is_empty() && token.as_ref() != Some(&t) => token = Some(t),
                Some(t) if !t.is_empty() => return Err(endless("GET /backups", &reply)),
                _ => return Ok(out),
            }
        }
        Err(ApiError::Decode {
            method: "GET".into(),
            path: "/backups".into(),
            request_id: None,
            message: format!("the list did not end after {MAX_PAGES} pages"),
        })
    }
}

impl Client {
    /// One page of `GET /backups[?instance=NAME]` (at most `page_size`), for callers that
    /// handle each page as it arrives (`terraform query`).
    pub async fn list_backups_page(
        &self,
        instance: Option<&str>,
        page_size: u64,
        token: Option<String>,
    ) -> Result<super::Page<BackupRecord>, ApiError> {
        let mut query = vec![(
            "page_size",
            page_size.clamp(1, super::MAX_PAGE_SIZE).to_string(),
        )];
        if let Some(i) = instance {
            query.push(("instance", i.to_string()));
        }
        if let Some(t) = token {
            query.push(("page_token", t));
        }
        let reply = self
            .send(Method::GET, "/backups", &query, None, None, None)
            .await?;
        let page: BackupPage = decode(&reply, &self.secrets(None))?;
        Ok(super::Page::new(page.backups, page.next_page_token))
    }
}

/// The error for a page token that repeats.
fn endless(what: &str, reply: &super::Reply) -> ApiError {
    ApiError::Decode {
        method: reply.method.to_string(),
        path: reply.path.clone(),
        request_id: None,
        message: format!("{what} answered the same next_page_token twice; the list never ends"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ClientConfig, fake};
    use super::*;

    fn backup_json(name: &str, token: &str) -> serde_json::Value {
        serde_json::json!({
            "name": name, "instance": "db1", "instance_uid": "u1", "type": "ON_DEMAND",
            "state": "READY", "engine": "mysql", "engine_version": "8.0", "size_bytes": 42,
            "description": "d", "created_at": "2026-01-01T00:00:00Z", "creation_token": token,
        })
    }

    /// The list follows page tokens to the end, with the instance filter on every page.
    #[tokio::test]
    async fn list_follows_pages() {
        let (url, log) = fake::serve(|r, _| {
            let body = if r.path.contains("page_token=p2") {
                serde_json::json!({"backups": [backup_json("b3", "")]})
            } else {
                serde_json::json!({"backups": [backup_json("b1", "k"), backup_json("b2", "")],
                    "next_page_token": "p2"})
            };
            (200, vec![], body.to_string())
        })
        .await;
        let c = Client::new(ClientConfig::new(url, "t", "p1")).expect("client");
        let all = c.list_backups(Some("db1")).await.expect("list");
        let names: Vec<&str> = all.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["b1", "b2", "b3"]);
        assert_eq!(all[0].kind, "ON_DEMAND");
        assert_eq!(all[0].creation_token, "k");
        let log = log.lock().expect("lock");
        assert_eq!(log.len(), 2);
        assert!(
            log.iter().all(|r| r.path.contains("instance=db1")),
            "{log:?}"
        );
    }

    /// A server that answers the same token forever is an error, not an endless loop.
    #[tokio::test]
    async fn a_repeating_page_token_is_an_error() {
        let (url, _) = fake::serve(|_, _| {
            (
                200,
                vec![],
                serde_json::json!({"backups": [], "next_page_token": "same"}).to_string(),
            )
        })
        .await;
        let c = Client::new(ClientConfig::new(url, "t", "p1")).expect("client");
        let e = c.list_backups(None).await.expect_err("endless");
        assert!(e.to_string().contains("never ends"), "{e}");
    }

    /// 404 is "gone" for get and delete; create sends the body and the key.
    #[tokio::test]
    async fn get_delete_and_create() {
        let (url, log) = fake::serve(|r, _| match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/v1/projects/p1/backups/b1") => {
                (200, vec![], backup_json("b1", "").to_string())
            }
            ("DELETE", "/v1/projects/p1/backups/b1") => (204, vec![], String::new()),
            ("POST", "/v1/projects/p1/instances/db1/backups") => {
                (201, vec![], backup_json("b9", &fake::key_of(r)).to_string())
            }
            _ => (404, vec![], fake::problem(404, "NOT_FOUND", false, "no")),
        })
        .await;
        let c = Client::new(ClientConfig::new(url, "t", "p1")).expect("client");
        assert_eq!(
            c.get_backup("b1").await.expect("get").map(|b| b.size_bytes),
            Some(42)
        );
        assert_eq!(c.get_backup("nope").await.expect("404 is none"), None);
        let key = IdempotencyKey::new();
        assert!(c.delete_backup("b1", &key).await.expect("deleted"));
        assert!(!c.delete_backup("nope", &key).await.expect("already gone"));
        let req = CreateBackupRequest {
            name: None,
            description: Some("before upgrade".into()),
        };
        let b = c.create_backup("db1", &req, &key).await.expect("created");
        assert_eq!(b.creation_token, key.as_str());
        let log = log.lock().expect("lock");
        let post = log.iter().find(|r| r.method == "POST").expect("posted");
        assert_eq!(post.body, br#"{"description":"before upgrade"}"#);
    }
}
