//! `POST /v1/projects/{project}/instances/{name}/restart` and `…/failover`: actions on an instance
//! that change none of its settings. Each answers 202 with an Operation (verb `restart` or
//! `failover`) during which the instance is `UPDATING` (busy: its writes answer 409
//! OPERATION_IN_PROGRESS), for `--restart-time` / `--failover-time` of virtual time.
//!
//! Actions are verb segments under the instance rather than `:restart` custom methods: the router
//! matches whole path segments, and a verb segment of its own answers 405 to every other method.

use axum::Router;
use axum::extract::{Extension, Path, State};
use axum::response::Response;
use axum::routing::post;
use serde::Deserialize;

use super::idem;
use super::instances::{commit_accepted, not_found};
use crate::AppState;
use crate::engine::backend::spawn_job;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::middleware::IdemCtx;
use crate::model::InstanceState;
use crate::store::InstanceRec;
use crate::store::lifecycle::{OpPlan, new_op_id};
use crate::util::rfc3339;

/// One action: its path segment (also the operation's verb) and what it needs of the instance.
#[derive(Clone, Copy)]
struct Action {
    verb: &'static str,
    /// Virtual duration of its operation.
    duration_ms: fn(&crate::Config) -> i64,
    /// Refuses an instance the action cannot run on (beyond busy and FAILED), as a 409.
    precondition: fn(&crate::model::Instance) -> ApiResult<()>,
}

const RESTART: Action = Action {
    verb: "restart",
    duration_ms: |c| c.restart_ms,
    precondition: |_| Ok(()),
};

const FAILOVER: Action = Action {
    verb: "failover",
    duration_ms: |c| c.failover_ms,
    precondition: |inst| {
        if inst.high_availability {
            return Ok(());
        }
        Err(ApiError::Conflict {
            reason: "FAILED_PRECONDITION",
            detail: format!(
                "instance {} has no standby to fail over to (high_availability is false); enable high_availability first",
                inst.name
            ),
            retryable: false,
        })
    },
};

/// An action takes no parameters; an empty body or `{}` are accepted (anything else is a 400
/// naming the unknown field), so a client may send either.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoParams {}

pub fn router(st: &AppState) -> Router<AppState> {
    let mut r = Router::new();
    for action in [RESTART, FAILOVER] {
        let handler = move |s: State<AppState>,
                            p: Path<(String, String)>,
                            i: Option<Extension<IdemCtx>>,
                            b: Result<Option<ApiJson<NoParams>>, ApiError>| {
            run(action, s, p, i, b)
        };
        r = r.route(
            &format!(
                "/v1/projects/{{project}}/instances/{{name}}/{}",
                action.verb
            ),
            idem(st, post(handler)),
        );
    }
    r
}

/// Starts the action's operation. The instance checks (404, 409) come before the body's 400.
async fn run(
    action: Action,
    State(st): State<AppState>,
    Path((project, name)): Path<(String, String)>,
    idem: Option<Extension<IdemCtx>>,
    body: Result<Option<ApiJson<NoParams>>, ApiError>,
) -> ApiResult<Response> {
    let mut store = st.store().await;
    let rec = store
        .instance(&project, &name)
        .cloned()
        .ok_or_else(|| not_found(&name))?;
    if rec.inst.busy() {
        return Err(ApiError::busy(&format!("instance {name}")));
    }
    // A real engine that crashed made its instance FAILED; a restart brings it back.
    let real = st.engines.is_some() && store.engines.contains_key(&(project.clone(), name.clone()));
    let revive = real && action.verb == "restart";
    if rec.inst.state == InstanceState::Failed && !revive {
        return Err(ApiError::Conflict {
            reason: "FAILED_PRECONDITION",
            detail: format!(
                "instance {name} is FAILED; it cannot {}, only be deleted",
                action.verb
            ),
            retryable: false,
        });
    }
    (action.precondition)(&rec.inst)?;
    body?;
    let path = format!("/v1/projects/{project}/instances/{name}/{}", action.verb);
    let fail = st.faults.take_fail_operation("POST", &path);
    let duration = (action.duration_ms)(&st.config);
    let now = store.now_ms();
    let op_id = new_op_id();
    let mut inst = rec.inst.clone();
    if duration > 0 || real {
        inst.state = InstanceState::Updating;
    }
    inst.current_operation = Some(op_id.clone());
    inst.updated_at = rfc3339(now);
    inst.refresh_etag();
    let mut b = store.batch();
    b.put_instance(InstanceRec {
        inst,
        created_ms: rec.created_ms,
    });
    let op = b.new_op(
        op_id,
        &project,
        &name,
        action.verb,
        duration,
        OpPlan {
            fail,
            engine: real,
            ..OpPlan::default()
        },
    );
    let op = b.start_op(op);
    let res = commit_accepted(b, idem.as_ref().map(|e| &e.0), &project, &op, now).await?;
    if real {
        spawn_job(st.clone(), project, name, op.id, None);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failover_needs_a_standby() {
        let mut inst: crate::model::Instance = serde_json::from_value(serde_json::json!({
            "name": "db1", "uid": "u", "project": "p", "engine": "mysql", "engine_version": "8.0",
            "engine_version_actual": "8.0.36", "tier": "db-small", "storage_gb": 20,
            "high_availability": false, "admin_username": "dbadmin", "labels": {},
            "deletion_protection": false,
            "backup": {"enabled": true, "start_time": "03:00", "retention_days": 7},
            "endpoint": {"host": "h", "port": 3306}, "state": "READY", "current_operation": null,
            "created_at": "t", "updated_at": "t", "etag": "e"
        }))
        .expect("instance");
        let e = (FAILOVER.precondition)(&inst).expect_err("no standby");
        assert!(e.to_string().contains("high_availability"), "{e}");
        inst.high_availability = true;
        assert!((FAILOVER.precondition)(&inst).is_ok());
        assert!((RESTART.precondition)(&inst).is_ok());
    }
}
