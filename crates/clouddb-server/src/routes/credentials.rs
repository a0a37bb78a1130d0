//! `/v1/projects/{project}/instances/{name}/credentials`: temporary database logins.
//!
//! A credential is a username and password that work until `expires_at` (virtual time): created
//! with `POST …/credentials` (201, the only answer that ever carries the password), extended with
//! `POST …/credentials/{id}/renew`, revoked with `DELETE …/credentials/{id}` (204). An expired or
//! revoked credential is gone: GET, renew and DELETE answer 404, and lists leave it out.
//!
//! The password is never stored: not in the record, not in SQLite, not in the idempotency table.
//! A create replayed from its Idempotency-Key answers the same 201 *without* `password`, so a
//! client that lost the first answer revokes that credential and asks for a new one.
//!
//! Creating needs the instance idle (like every sub-resource write); renewing and revoking work
//! in any state, so a busy instance never keeps a login alive longer than its holder wants.

use axum::Router;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::children::{instance_of, writable_instance};
use super::{Page, idem, json_response, list_body, parse_query};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::middleware::{IdemCtx, IdemStored};
use crate::store::{ChildKey, IdemRec, Store};
use crate::util::{rand_u64, rfc3339};

/// Storage kind of the records (beside `databases`, `users`, …), and the list's key.
pub const CREDENTIALS: &str = "credentials";
/// Most unexpired credentials per instance; one more create is 409 `QUOTA_EXCEEDED`.
pub const MAX_CREDENTIALS_PER_INSTANCE: usize = 20;
/// Bounds and default of `ttl_seconds`.
pub const MIN_TTL_SECONDS: i64 = 5;
pub const MAX_TTL_SECONDS: i64 = 86_400;
pub const DEFAULT_TTL_SECONDS: i64 = 900;
/// Every password starts with this, so secret scanners (and tests) can recognise one.
pub const PASSWORD_PREFIX: &str = "cdbpw_";
/// Random characters after the prefix (62 symbols each: about 238 bits).
const PASSWORD_CHARS: usize = 40;

/// Internal field of the stored record: the expiry in virtual ms (never shown).
const EXPIRES_MS: &str = "expires_ms";

/// Body of a create or a renew; an empty body takes the default (create) or the credential's own
/// `ttl_seconds` (renew).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TtlBody {
    ttl_seconds: Option<i64>,
}

type Body = Result<Option<ApiJson<TtlBody>>, ApiError>;
type Idem = Option<Extension<IdemCtx>>;

pub fn router(st: &AppState) -> Router<AppState> {
    let base = "/v1/projects/{project}/instances/{name}/credentials";
    Router::new()
        .route(base, idem(st, get(list).post(create)))
        .route(
            &format!("{base}/{{id}}"),
            idem(st, get(get_one).delete(revoke)),
        )
        .route(&format!("{base}/{{id}}/renew"), idem(st, post(renew)))
}

fn key(project: &str, instance: &str, id: &str) -> ChildKey {
    (
        project.into(),
        instance.into(),
        CREDENTIALS.into(),
        id.into(),
    )
}

/// The credentials of one instance, expired ones included, in id order.
fn records<'a>(
    store: &'a Store,
    project: &'a str,
    instance: &'a str,
    after: &str,
) -> impl Iterator<Item = (&'a ChildKey, &'a Value)> + 'a {
    store
        .children
        .range(key(project, instance, after)..)
        .take_while(move |(k, _)| k.0 == project && k.1 == instance && k.2 == CREDENTIALS)
}

fn live(rec: &Value, now: i64) -> bool {
    rec[EXPIRES_MS].as_i64().is_some_and(|e| now < e)
}

/// The record as the API shows it (no internal fields; the password is never in it).
fn public(rec: &Value) -> Value {
    let mut v = rec.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove(EXPIRES_MS);
    }
    v
}

/// The unexpired credential `id`, or 404.
fn find(store: &Store, project: &str, instance: &str, id: &str) -> ApiResult<Value> {
    let now = store.now_ms();
    store
        .children
        .get(&key(project, instance, id))
        .filter(|r| live(r, now))
        .cloned()
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "credential {id} of instance {instance} not found (revoked or expired)"
            ))
        })
}

/// `ttl_seconds` from an optional body, else `default`; a 400 naming it when out of range.
fn ttl(body: Option<ApiJson<TtlBody>>, default: i64) -> ApiResult<i64> {
    let t = body.and_then(|ApiJson(b)| b.ttl_seconds).unwrap_or(default);
    if !(MIN_TTL_SECONDS..=MAX_TTL_SECONDS).contains(&t) {
        return Err(ApiError::field(
            "ttl_seconds",
            format!("must be between {MIN_TTL_SECONDS} and {MAX_TTL_SECONDS} seconds"),
        ));
    }
    Ok(t)
}

/// A fresh password from the OS's CSPRNG: [`PASSWORD_PREFIX`] and base62 characters.
fn new_password() -> ApiResult<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::from(PASSWORD_PREFIX);
    let mut buf = [0u8; 64];
    while out.len() < PASSWORD_PREFIX.len() + PASSWORD_CHARS {
        getrandom::fill(&mut buf)
            .map_err(|e| ApiError::Internal(format!("no randomness for a password: {e}")))?;
        // Rejection sampling (bytes ≥ 248 dropped) keeps every character equally likely.
        for b in buf.iter().filter(|b| **b < 248) {
            if out.len() == PASSWORD_PREFIX.len() + PASSWORD_CHARS {
                break;
            }
            out.push(char::from(ALPHABET[usize::from(*b % 62)]));
        }
    }
    Ok(out)
}

async fn list(
    State(st): State<AppState>,
    Path((project, name)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let q = parse_query(raw.as_deref())?;
    let page = Page::from_query(&q)?;
    let store = st.read().await;
    instance_of(&store, &project, &name)?;
    let now = store.now_ms();
    let items = records(&store, &project, &name, page.after.as_deref().unwrap_or(""))
        .filter(|(_, v)| live(v, now))
        .map(|(k, v)| (k.3.clone(), public(v)));
    let (items, next) = page.take(items);
    Ok(json_response(
        StatusCode::OK,
        &list_body(CREDENTIALS, items, next),
    ))
}

/// Creates a credential. The instance checks (404, 409) come before the body's 400.
async fn create(
    State(st): State<AppState>,
    Path((project, name)): Path<(String, String)>,
    idem: Idem,
    body: Body,
) -> ApiResult<Response> {
    let mut store = st.store().await;
    writable_instance(&store, &project, &name)?;
    let ttl_seconds = ttl(body?, DEFAULT_TTL_SECONDS)?;
    let now = store.now_ms();
    let (expired, active): (Vec<_>, Vec<_>) = records(&store, &project, &name, "")
        .map(|(k, v)| (k.clone(), live(v, now)))
        .partition(|(_, live)| !live);
    if active.len() >= MAX_CREDENTIALS_PER_INSTANCE {
        return Err(ApiError::QuotaExceeded(format!(
            "instance {name} already has {} active credentials (limit {MAX_CREDENTIALS_PER_INSTANCE}); revoke one or let it expire",
            active.len()
        )));
    }
    let id = format!("cred-{:016x}", rand_u64());
    let expires = now.saturating_add(ttl_seconds * 1000);
    let idem = idem.map(|Extension(c)| c);
    let rec = json!({
        "id": id,
        "instance": name,
        "username": format!("cred_{:012x}", rand_u64() & 0xffff_ffff_ffff),
        "created_at": rfc3339(now),
        "expires_at": rfc3339(expires),
        "ttl_seconds": ttl_seconds,
        "creation_token": idem.as_ref().map(|c| c.key.as_str()).unwrap_or(""),
        EXPIRES_MS: expires,
    });
    let shown = public(&rec);
    let mut answer = shown.clone();
    answer["password"] = json!(new_password()?);
    let mut b = store.batch();
    // Expired records go with the next create, so an instance never holds more than the limit.
    for (k, _) in expired {
        b.del_child(k);
    }
    b.put_child(key(&project, &name, &id), rec);
    // The replay of this create (same Idempotency-Key) answers without the password.
    if let Some(ctx) = &idem {
        let stored =
            serde_json::to_string(&shown).map_err(|e| ApiError::Internal(e.to_string()))?;
        b.put_idem(
            &ctx.scope,
            &ctx.key,
            IdemRec {
                fingerprint: ctx.fingerprint.clone(),
                status: StatusCode::CREATED.as_u16(),
                content_type: Some("application/json".into()),
                location: None,
                body: stored,
                created_ms: now,
                created_real_ms: 0,
            },
        );
    }
    b.commit().await?;
    let mut r = json_response(StatusCode::CREATED, &answer);
    // The one answer that carries a password must not sit in a cache.
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if idem.is_some() {
        r.extensions_mut().insert(IdemStored);
    }
    Ok(r.into_response())
}

async fn get_one(
    State(st): State<AppState>,
    Path((project, name, id)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let store = st.read().await;
    instance_of(&store, &project, &name)?;
    let rec = find(&store, &project, &name, &id)?;
    Ok(json_response(StatusCode::OK, &public(&rec)))
}

/// Extends an unexpired credential to `ttl_seconds` (default: its own) from now.
async fn renew(
    State(st): State<AppState>,
    Path((project, name, id)): Path<(String, String, String)>,
    body: Body,
) -> ApiResult<Response> {
    let mut store = st.store().await;
    instance_of(&store, &project, &name)?;
    let mut rec = find(&store, &project, &name, &id)?;
    let own = rec["ttl_seconds"].as_i64().unwrap_or(DEFAULT_TTL_SECONDS);
    let ttl_seconds = ttl(body?, own)?;
    let now = store.now_ms();
    let expires = now.saturating_add(ttl_seconds * 1000);
    rec["expires_at"] = json!(rfc3339(expires));
    rec["ttl_seconds"] = json!(ttl_seconds);
    rec[EXPIRES_MS] = json!(expires);
    let mut b = store.batch();
    b.put_child(key(&project, &name, &id), rec.clone());
    b.commit().await?;
    Ok(json_response(StatusCode::OK, &public(&rec)))
}

async fn revoke(
    State(st): State<AppState>,
    Path((project, name, id)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let mut store = st.store().await;
    instance_of(&store, &project, &name)?;
    find(&store, &project, &name, &id)?;
    let mut b = store.batch();
    b.del_child(key(&project, &name, &id));
    b.commit().await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_long_prefixed_and_distinct() {
        let a = new_password().expect("password");
        let b = new_password().expect("password");
        assert_ne!(a, b);
        assert!(a.starts_with(PASSWORD_PREFIX), "{a}");
        assert_eq!(a.len(), PASSWORD_PREFIX.len() + PASSWORD_CHARS);
        assert!(
            a[PASSWORD_PREFIX.len()..]
                .bytes()
                .all(|c| c.is_ascii_alphanumeric())
        );
    }

    #[test]
    fn ttl_bounds_name_the_field() {
        assert_eq!(ttl(None, 900).ok(), Some(900));
        for bad in [0, 4, 86_401, -1] {
            let e = ttl(
                Some(ApiJson(TtlBody {
                    ttl_seconds: Some(bad),
                })),
                900,
            )
            .expect_err("out of range");
            assert!(e.to_string().starts_with("ttl_seconds:"), "{e}");
        }
    }
}
