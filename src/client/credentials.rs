//! Temporary database logins of an instance (`/instances/{name}/credentials`): issue, renew,
//! revoke, list. They expire on their own at `expires_at`; revoking one that is already gone (404)
//! is success.
//!
//! The API sends the password once, in the answer to the create, and keeps no copy. The client
//! holds it in a [`Password`], which never shows its value in `Debug` output, errors or logs.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::{ApiError, Client, IdempotencyKey, decode, encode_segment, redact};

/// A credential as the API shows it (every answer but the create's: no password).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct Credential {
    pub id: String,
    pub instance: String,
    pub username: String,
    pub created_at: String,
    /// RFC 3339, in the API's (possibly virtual) time.
    pub expires_at: String,
    pub ttl_seconds: i64,
    pub creation_token: String,
}

/// A password the API issued. `Debug` shows `<redacted>`; the value is only reachable through
/// [`Password::expose`], so it cannot end up in a log line or a diagnostic by accident.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Password(String);

impl Password {
    pub fn new(s: impl Into<String>) -> Self {
        Password(s.into())
    }

    /// The password itself, for the one place that hands it on (the ephemeral result).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A freshly issued credential with its password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCredential {
    pub credential: Credential,
    pub password: Password,
}

/// The create's answer: a credential and, unless it is a replay of an earlier create, the password.
#[derive(Deserialize)]
struct Created {
    #[serde(flatten)]
    credential: Credential,
    #[serde(default)]
    password: Option<Password>,
}

/// Body of a create or a renew.
#[derive(Serialize)]
struct Ttl {
    ttl_seconds: i64,
}

/// One page of `GET …/credentials`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct CredentialPage {
    credentials: Vec<Credential>,
    next_page_token: Option<String>,
}

fn collection(instance: &str) -> String {
    format!("/instances/{}/credentials", encode_segment(instance))
}

fn item(instance: &str, id: &str) -> String {
    format!("{}/{}", collection(instance), encode_segment(id))
}

fn encode_ttl(ttl_seconds: i64) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(&Ttl { ttl_seconds })
        .map_err(|e| ApiError::Config(format!("cannot encode credential request: {e}")))
}

impl Client {
    /// `POST …/credentials` → a credential valid for `ttl_seconds`, with its password.
    ///
    /// Retried with one idempotency key. When the first answer was lost and a retry got the
    /// replay — which carries no password, as the API keeps none — that credential is useless:
    /// it is revoked and one more create (with a new key) is made, so no login is left behind
    /// and the caller always gets a password or an error.
    pub async fn issue_credential(
        &self,
        instance: &str,
        ttl_seconds: i64,
    ) -> Result<IssuedCredential, ApiError> {
        for _ in 0..2 {
            let created = self.create_credential(instance, ttl_seconds).await?;
            match created.password {
                Some(password) => {
                    return Ok(IssuedCredential {
                        credential: created.credential,
                        password,
                    });
                }
                None => {
                    tracing::info!(
                        credential = %created.credential.id,
                        "the API replayed a credential create without its password; revoking it and asking again"
                    );
                    self.revoke_credential(instance, &created.credential.id)
                        .await?;
                }
            }
        }
        Err(ApiError::Decode {
            method: "POST".into(),
            path: collection(instance),
            request_id: None,
            message: "the API answered twice without a password for the new credential".into(),
        })
    }

    async fn create_credential(
        &self,
        instance: &str,
        ttl_seconds: i64,
    ) -> Result<Created, ApiError> {
        let key = IdempotencyKey::new();
        let reply = self
            .send(
                Method::POST,
                &collection(instance),
                &[],
                Some(encode_ttl(ttl_seconds)?),
                Some(&key),
                None,
            )
            .await?;
        decode(&reply, &self.secrets(None)).map_err(|e| scrub_password(e, &reply.body))
    }

    /// `POST …/credentials/{id}/renew` → the credential, valid for `ttl_seconds` from now.
    /// A 404 (revoked or expired meanwhile) is an error: the login is gone.
    pub async fn renew_credential(
        &self,
        instance: &str,
        id: &str,
        ttl_seconds: i64,
    ) -> Result<Credential, ApiError> {
        let path = format!("{}/renew", item(instance, id));
        let reply = self
            .send(
                Method::POST,
                &path,
                &[],
                Some(encode_ttl(ttl_seconds)?),
                Some(&IdempotencyKey::new()),
                None,
            )
            .await?;
        decode(&reply, &self.secrets(None))
    }

    /// `DELETE …/credentials/{id}`; a 404 (already revoked or expired, or the instance gone) is
    /// success.
    pub async fn revoke_credential(&self, instance: &str, id: &str) -> Result<(), ApiError> {
        match self
            .send(
                Method::DELETE,
                &item(instance, id),
                &[],
                None,
                Some(&IdempotencyKey::new()),
                None,
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// `GET …/credentials`, every page: the instance's active credentials (no passwords).
    pub async fn list_credentials(&self, instance: &str) -> Result<Vec<Credential>, ApiError> {
        const MAX_PAGES: usize = 50;
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut query = vec![("page_size", "100".to_string())];
            if let Some(t) = &token {
                query.push(("page_token", t.clone()));
            }
            let reply = self
                .send(Method::GET, &collection(instance), &query, None, None, None)
                .await?;
            let page: CredentialPage = decode(&reply, &self.secrets(None))?;
            out.extend(page.credentials);
            match page.next_page_token {
                Some(t) if !t.is_empty() => token = Some(t),
                _ => break,
            }
        }
        Ok(out)
    }
}

/// A decode error of the create's answer may quote any of its values: the password, if the body
/// has one, is masked (the key-based masking of [`redact`] already covers `"password":"…"`).
fn scrub_password(e: ApiError, body: &[u8]) -> ApiError {
    let secrets = redact::secrets_in_json(body);
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    match e {
        ApiError::Decode {
            method,
            path,
            request_id,
            message,
        } => ApiError::Decode {
            method,
            path,
            request_id,
            message: redact::redact(&message, &secrets),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show_in_debug_output() {
        let issued = IssuedCredential {
            credential: Credential {
                id: "cred-1".into(),
                ..Credential::default()
            },
            password: Password::new("cdbpw_hunter2hunter2"),
        };
        let shown = format!("{issued:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("cred-1") && shown.contains("<redacted>"));
        assert_eq!(issued.password.expose(), "cdbpw_hunter2hunter2");
    }

    #[test]
    fn a_create_answer_decodes_with_and_without_the_password() {
        let full: Created = serde_json::from_str(
            r#"{"id":"cred-1","instance":"db1","username":"cred_a","password":"cdbpw_x",
                "created_at":"t","expires_at":"t2","ttl_seconds":60,"creation_token":"k","new":1}"#,
        )
        .expect("decodes");
        assert_eq!(full.credential.ttl_seconds, 60);
        assert_eq!(full.password.map(|p| p.0), Some("cdbpw_x".to_string()));
        let replay: Created =
            serde_json::from_str(r#"{"id":"cred-1","username":"cred_a"}"#).expect("decodes");
        assert!(replay.password.is_none());
    }

    #[test]
    fn decode_errors_of_the_create_never_quote_the_password() {
        let body = br#"{"id":"cred-1","password":"cdbpw_leaky","ttl_seconds":"cdbpw_leaky"}"#;
        let e = ApiError::Decode {
            method: "POST".into(),
            path: "/x".into(),
            request_id: None,
            message: "ttl_seconds: invalid type: string \"cdbpw_leaky\", expected i64".into(),
        };
        let text = scrub_password(e, body).to_string();
        assert!(!text.contains("cdbpw_leaky"), "{text}");
    }
}
