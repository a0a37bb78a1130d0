//! List resources: items streamed as pushed, the limit honoured even by a handler that
//! ignores it, identities and resource objects checked, errors ending the listing.

use super::*;
use crate::provider::{ListItem, ListRequest, ListStream};
use futures_util::StreamExt;
use std::time::Duration;

/// Lists `toy_keyed` objects `eu/0`, `eu/1`, … in pages of two, by `mode`: "five" (five
/// objects, stops when told), "endless" (never stops, ignores what `push` says), "warn" (a
/// warning between the pages), "bad-identity" (the second item has none), "fail" (an error
/// after the first page), "panic".
pub(super) struct KeyedList;

fn item(region: &str, i: usize, include: bool) -> ListItem {
    let id = format!("{region}/{i}");
    let it = ListItem::new(
        format!("object {i}"),
        Value::object([
            ("id", Value::from(id.as_str())),
            ("region", Value::from(region)),
        ]),
    );
    if include {
        it.with_resource(Value::object([
            ("id", Value::from(id.as_str())),
            ("name", Value::from(format!("n{i}"))),
        ]))
    } else {
        it
    }
}

#[async_trait]
impl ListResource<String> for KeyedList {
    fn type_name(&self) -> &'static str {
        "toy_keyed"
    }
    fn schema(&self) -> Schema {
        Schema::new().attribute(Attribute::string("mode").required())
    }
    async fn validate(&self, _: &Context, config: &Value) -> Diagnostics {
        let mut d = Diagnostics::new();
        if config.get("mode").as_str() == Some("") {
            d.attribute_error("mode", "Empty mode", "say what to list");
        }
        d
    }
    async fn list(
        &self,
        _: &Context,
        region: &String,
        req: ListRequest,
        out: &mut ListStream,
    ) -> Result<(), Diagnostics> {
        let mode = req
            .config
            .get("mode")
            .as_str()
            .unwrap_or_default()
            .to_string();
        let total = if mode == "endless" { usize::MAX } else { 5 };
        let mut i = 0;
        while i < total {
            // one "page" of two
            for _ in 0..2.min(total - i) {
                let mut it = item(region, i, req.include_resource);
                match mode.as_str() {
                    "bad-identity" if i == 1 => it.identity = Value::Null,
                    "panic" => panic!("list bug"),
                    _ => {}
                }
                i += 1;
                let more = out.push(it).await;
                if !more && mode != "endless" {
                    return Ok(());
                }
            }
            match mode.as_str() {
                "warn" if i == 2 => {
                    let _ = out
                        .diagnostics(Diagnostic::warning("Skipped a page", "busy"))
                        .await;
                }
                "fail" => return Err(Diagnostic::error("Listing failed", "API down").into()),
                _ => {}
            }
            tokio::task::yield_now().await;
        }
        Ok(())
    }
}

fn cfg(mode: &str) -> Value {
    Value::object([("mode", Value::from(mode))])
}

async fn collect(e: &Engine<Toy>, mode: &str, include: bool, limit: i64) -> Vec<ListedItem> {
    tokio::time::timeout(
        Duration::from_secs(5),
        e.list("toy_keyed", cfg(mode), include, limit)
            .collect::<Vec<_>>(),
    )
    .await
    .expect("the listing ends")
}

fn names(items: &[ListedItem]) -> Vec<String> {
    items
        .iter()
        .map(|it| match (&it.identity, it.diagnostics.iter().next()) {
            (Some(i), _) => i.get("id").as_str().unwrap_or_default().to_string(),
            (None, Some(d)) => format!("<{}>", d.summary),
            (None, None) => "<empty>".into(),
        })
        .collect()
}

#[tokio::test]
async fn listing_streams_and_stops() {
    let e = configured().await;
    let cases: [(&str, &str, i64, Vec<&str>); 8] = [
        (
            "all of them, under the limit",
            "five",
            100,
            vec!["eu/0", "eu/1", "eu/2", "eu/3", "eu/4"],
        ),
        ("the limit", "five", 3, vec!["eu/0", "eu/1", "eu/2"]),
        (
            "an endless handler is stopped at the limit",
            "endless",
            4,
            vec!["eu/0", "eu/1", "eu/2", "eu/3"],
        ),
        (
            "limit 0: the handler is not even called",
            "endless",
            0,
            vec![],
        ),
        (
            "a warning does not count toward the limit",
            "warn",
            3,
            vec!["eu/0", "eu/1", "<Skipped a page>", "eu/2"],
        ),
        (
            "an item without identity ends the listing",
            "bad-identity",
            10,
            vec!["eu/0", "<Incomplete list result>"],
        ),
        (
            "an error after what was found",
            "fail",
            10,
            vec!["eu/0", "eu/1", "<Listing failed>"],
        ),
        ("a panic", "panic", 10, vec!["<Provider panicked>"]),
    ];
    for (what, mode, limit, want) in cases {
        let items = collect(&e, mode, false, limit).await;
        assert_eq!(names(&items), want, "{what}");
        assert!(
            items.iter().all(|it| it.resource_object.is_none()),
            "{what}: objects only when asked"
        );
    }
}

#[tokio::test]
async fn resource_objects_when_asked() {
    let e = configured().await;
    let items = collect(&e, "five", true, 2).await;
    assert_eq!(names(&items), vec!["eu/0", "eu/1"]);
    assert_eq!(
        items[1].resource_object,
        Some(Value::object([
            ("id", Value::from("eu/1")),
            ("name", Value::from("n1"))
        ]))
    );
    assert_eq!(items[1].display_name, "object 1");
    assert!(items[1].diagnostics.is_empty());
}

#[tokio::test]
async fn validation_and_configuration() {
    let e = configured().await;
    assert!(e.validate_list("toy_keyed", &cfg("five")).await.is_empty());
    let d = e.validate_list("toy_keyed", &cfg("")).await;
    assert_eq!(
        first_error(&d).map(|x| x.summary.as_str()),
        Some("Empty mode")
    );
    let d = e.validate_list("toy_nope", &cfg("five")).await;
    assert_eq!(
        first_error(&d).map(|x| x.summary.as_str()),
        Some("Unknown list resource type")
    );
    // before configuration: one event with the error, the handler never runs
    let items: Vec<ListedItem> = Engine::new(Toy)
        .list("toy_keyed", cfg("endless"), false, 5)
        .collect()
        .await;
    assert_eq!(names(&items), vec!["<Provider not configured>"]);
}
