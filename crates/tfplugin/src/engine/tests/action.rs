//! Actions: validation, plan-time checks, progress streaming, failures and the stop signal.

use super::*;
use crate::provider::Progress;
use crate::schema::validators;
use futures_util::StreamExt;
use std::time::{Duration, Instant};

/// `toy_ping`: sends `steps` progress messages, then behaves by `mode`: "ok", "fail",
/// "panic", "polite" (waits until stopped, then fails) or "stubborn" (ignores the stop).
pub(super) struct Ping;

#[async_trait]
impl Action<String> for Ping {
    fn type_name(&self) -> &'static str {
        "toy_ping"
    }
    fn schema(&self) -> Schema {
        Schema::new()
            .attribute(
                Attribute::string("mode")
                    .required()
                    .validator(validators::one_of(&[
                        "ok", "fail", "panic", "polite", "stubborn",
                    ])),
            )
            .attribute(Attribute::int64("steps").optional())
    }
    async fn validate(&self, _: &Context, config: &Value) -> Diagnostics {
        let mut d = Diagnostics::new();
        if config.get("steps").as_i64().is_some_and(|n| n > 10) {
            d.attribute_error("steps", "Too many steps", "at most 10");
        }
        d
    }
    async fn plan(&self, _: &Context, data: Option<&String>, config: &Value) -> Diagnostics {
        let mut d = Diagnostics::new();
        if data.is_none() {
            d.warning(
                "Region not known yet",
                "the ping target is decided at apply",
            );
        }
        if config.get("mode").as_str() == Some("fail") {
            d.error("Ping would fail", "planned to fail");
        }
        d
    }
    async fn invoke(
        &self,
        ctx: &Context,
        region: &String,
        config: &Value,
        progress: &Progress,
    ) -> Result<(), Diagnostics> {
        for i in 0..config.get("steps").as_i64().unwrap_or(0) {
            progress.send(format!("{region}: step {i}")).await;
        }
        match config.get("mode").as_str() {
            Some("fail") => Err(Diagnostic::error("Ping failed", "no answer").into()),
            Some("panic") => panic!("ping bug"),
            Some("polite") => {
                ctx.stopped().await;
                Err(Diagnostic::error("Ping stopped", "asked to stop").into())
            }
            Some("stubborn") => {
                tokio::time::sleep(Duration::from_secs(60)).await;
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

fn ping(mode: &str, steps: Option<i64>) -> Value {
    Value::object([
        ("mode", Value::from(mode)),
        ("steps", steps.map_or(Value::Null, Value::int)),
    ])
}

fn summaries(d: &Diagnostics) -> Vec<&str> {
    d.iter().map(|x| x.summary.as_str()).collect()
}

#[tokio::test]
async fn validate_and_plan() {
    let e = configured().await;
    let cases = [
        ("valid", "toy_ping", ping("ok", Some(2)), vec![]),
        (
            "a validator",
            "toy_ping",
            ping("loud", None),
            vec!["Invalid attribute value"],
        ),
        (
            "the type's own check",
            "toy_ping",
            ping("ok", Some(11)),
            vec!["Too many steps"],
        ),
        (
            "unknown values are accepted",
            "toy_ping",
            Value::object([("mode", Value::unknown()), ("steps", Value::unknown())]),
            vec![],
        ),
        (
            "unknown type",
            "toy_nope",
            ping("ok", None),
            vec!["Unknown action type"],
        ),
    ];
    for (what, name, config, want) in cases {
        let d = e.validate_action(name, &config).await;
        let got: Vec<&str> = d
            .iter()
            .filter(|x| x.is_error())
            .map(|x| x.summary.as_str())
            .collect();
        assert_eq!(got, want, "{what}: {d:?}");
    }
    let d = e.plan_action("toy_ping", &ping("fail", None), false).await;
    assert_eq!(summaries(&d), vec!["Ping would fail"]);
    let d = e.plan_action("toy_ping", &ping("ok", None), false).await;
    assert!(d.is_empty(), "{d:?}");
    // while the provider configuration is unknown, plan runs without data
    let u = Engine::new(Toy);
    u.configure(
        Value::object([("region", Value::unknown())]),
        "1.15.5".into(),
        false,
    )
    .await;
    let d = u.plan_action("toy_ping", &ping("ok", None), false).await;
    assert_eq!(summaries(&d), vec!["Region not known yet"]);
}

#[tokio::test]
async fn invoke_streams_progress_then_completes() {
    let progress = |n: i64| -> Vec<ActionEvent> {
        (0..n)
            .map(|i| ActionEvent::Progress(format!("eu: step {i}")))
            .collect()
    };
    struct Case {
        what: &'static str,
        name: &'static str,
        config: Value,
        want_progress: Vec<ActionEvent>,
        want_errors: Vec<&'static str>,
    }
    let cases = [
        Case {
            what: "progress, then success",
            name: "toy_ping",
            config: ping("ok", Some(3)),
            want_progress: progress(3),
            want_errors: vec![],
        },
        Case {
            what: "progress, then the failure",
            name: "toy_ping",
            config: ping("fail", Some(1)),
            want_progress: progress(1),
            want_errors: vec!["Ping failed"],
        },
        Case {
            what: "a panic completes with an error",
            name: "toy_ping",
            config: ping("panic", Some(2)),
            want_progress: progress(2),
            want_errors: vec!["Provider panicked"],
        },
        Case {
            what: "unknown values are refused",
            name: "toy_ping",
            config: Value::object([("mode", Value::from("ok")), ("steps", Value::unknown())]),
            want_progress: vec![],
            want_errors: vec!["Action configuration not known"],
        },
        Case {
            what: "unknown type",
            name: "toy_nope",
            config: ping("ok", None),
            want_progress: vec![],
            want_errors: vec!["Unknown action type"],
        },
    ];
    let e = configured().await;
    for c in cases {
        let events: Vec<ActionEvent> = e.invoke_action(c.name, c.config).collect().await;
        let (last, first) = events.split_last().expect("a completion");
        assert_eq!(first, c.want_progress.as_slice(), "{}", c.what);
        let ActionEvent::Completed(d) = last else {
            panic!("{}: ends with {last:?}", c.what);
        };
        let got: Vec<&str> = d
            .iter()
            .filter(|x| x.is_error())
            .map(|x| x.summary.as_str())
            .collect();
        assert_eq!(got, c.want_errors, "{}: {d:?}", c.what);
    }
    // before configuration, nothing runs
    let events: Vec<ActionEvent> = Engine::new(Toy)
        .invoke_action("toy_ping", ping("ok", Some(1)))
        .collect()
        .await;
    assert!(
        matches!(events.as_slice(), [ActionEvent::Completed(d)] if summaries(d) == ["Provider not configured"]),
        "{events:?}"
    );
}

#[tokio::test]
async fn invoke_honours_the_stop_signal() {
    for (mode, want) in [
        ("polite", "Ping stopped"),
        ("stubborn", "Action interrupted"),
    ] {
        let e = configured().await;
        let mut events = e.invoke_action("toy_ping", ping(mode, Some(1)));
        assert_eq!(
            events.next().await,
            Some(ActionEvent::Progress("eu: step 0".into()))
        );
        let stop = e.stop_signal();
        let started = Instant::now();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            stop.stop();
        });
        let last = tokio::time::timeout(Duration::from_secs(5), events.next())
            .await
            .expect("the action completes after the stop");
        let Some(ActionEvent::Completed(d)) = last else {
            panic!("{mode}: {last:?}");
        };
        assert_eq!(summaries(&d), vec![want], "{mode}");
        assert!(
            started.elapsed() < ACTION_STOP_GRACE + Duration::from_secs(1),
            "{mode}"
        );
        assert_eq!(
            events.next().await,
            None,
            "{mode}: nothing after the completion"
        );
    }
}
