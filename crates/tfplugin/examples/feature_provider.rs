//! A small provider exercising the framework's Terraform 1.12–1.15 features, for protocol
//! tests that drive it through `tfplugin::testing` exactly as Terraform would (the root
//! package's `tests/protocol/features.rs`). Its "cloud" is a map in memory.
//!
//! * `feat_widget`: a resource with an identity (`{name}`), importable by ID or identity,
//!   listable (`list "feat_widget"`), with generated configuration. A `note` of "drift"
//!   makes its update return another identity (a provider bug the framework must catch).
//! * `feat_gadget`: the deprecated old name of `feat_widget`; `moved` blocks turn gadgets
//!   into widgets (`MoveResourceState`).
//! * `feat_widget_poke`: an action that sends `steps` progress messages; with `mode` "fail"
//!   it fails, with "wait" it runs until the provider is stopped.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tfplugin::diag::{Diagnostic, Diagnostics};
use tfplugin::provider::*;
use tfplugin::schema::{Attribute, IdentityAttribute, IdentitySchema, Schema};
use tfplugin::server::ServeOptions;
use tfplugin::value::{Type, Value};

/// Widgets by name: their size and note.
type Widgets = BTreeMap<String, (i64, String)>;

/// The in-memory "cloud".
#[derive(Default)]
struct Cloud(Mutex<Widgets>);

impl Cloud {
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Widgets>, Diagnostic> {
        self.0
            .lock()
            .map_err(|_| Diagnostic::error("Cloud unavailable", "lock poisoned"))
    }
}

fn widget_schema() -> Schema {
    Schema::new()
        .attribute(Attribute::string("id").computed().use_state_for_unknown())
        .attribute(Attribute::string("name").required().requires_replace())
        .attribute(Attribute::int64("size").optional().default(1))
        .attribute(Attribute::string("note").optional())
        .attribute(Attribute::string("secret").optional().write_only())
}

fn identity(name: &str) -> Value {
    Value::object([("name", Value::from(name))])
}

fn state(name: &str, size: i64, note: &str) -> Value {
    Value::object([
        ("id", Value::from(format!("w-{name}"))),
        ("name", Value::from(name)),
        ("size", Value::int(size)),
        (
            "note",
            if note.is_empty() {
                Value::Null
            } else {
                Value::from(note)
            },
        ),
        ("secret", Value::Null),
    ])
}

/// `feat_widget`, or under its deprecated name `feat_gadget`.
struct Widget {
    type_name: &'static str,
    deprecated: bool,
}

#[async_trait]
impl Resource<Cloud> for Widget {
    fn type_name(&self) -> &'static str {
        self.type_name
    }

    fn schema(&self) -> Schema {
        let s = widget_schema();
        if self.deprecated {
            s.deprecated("feat_gadget is now feat_widget: use a moved block.")
        } else {
            s
        }
    }

    fn identity_schema(&self) -> Option<IdentitySchema> {
        Some(IdentitySchema::new().attribute(IdentityAttribute::required("name", Type::String)))
    }

    async fn create(
        &self,
        _: &Context,
        cloud: &Cloud,
        req: CreateRequest,
    ) -> Result<ApplyResult, Diagnostics> {
        let name = req
            .config
            .get("name")
            .as_str()
            .unwrap_or_default()
            .to_string();
        let size = req.planned_state.get("size").as_i64().unwrap_or(1);
        let note = req
            .config
            .get("note")
            .as_str()
            .unwrap_or_default()
            .to_string();
        cloud.lock()?.insert(name.clone(), (size, note.clone()));
        Ok(ApplyResult::ok(state(&name, size, &note)).with_identity(identity(&name)))
    }

    async fn read(
        &self,
        _: &Context,
        cloud: &Cloud,
        req: ReadRequest,
    ) -> Result<ReadResult, Diagnostics> {
        let name = req
            .state
            .get("name")
            .as_str()
            .unwrap_or_default()
            .to_string();
        let Some((size, note)) = cloud.lock()?.get(&name).cloned() else {
            return Ok(ReadResult::gone());
        };
        Ok(
            ReadResult::found(state(&name, size, &note), req.private)
                .with_identity(identity(&name)),
        )
    }

    async fn update(
        &self,
        _: &Context,
        cloud: &Cloud,
        req: UpdateRequest,
    ) -> Result<ApplyResult, Diagnostics> {
        let name = req
            .planned_state
            .get("name")
            .as_str()
            .unwrap_or_default()
            .to_string();
        let size = req.planned_state.get("size").as_i64().unwrap_or(1);
        let note = req
            .config
            .get("note")
            .as_str()
            .unwrap_or_default()
            .to_string();
        cloud.lock()?.insert(name.clone(), (size, note.clone()));
        let res = ApplyResult::ok(state(&name, size, &note));
        // None keeps the identity; "drift" is the bug the framework must catch
        Ok(if note == "drift" {
            res.with_identity(identity("someone-else"))
        } else {
            res
        })
    }

    async fn delete(
        &self,
        _: &Context,
        cloud: &Cloud,
        req: DeleteRequest,
    ) -> Result<(), Diagnostics> {
        if let Some(name) = req.prior_state.get("name").as_str() {
            cloud.lock()?.remove(name);
        }
        Ok(())
    }

    async fn import(
        &self,
        _: &Context,
        _: &Cloud,
        req: ImportRequest,
    ) -> Result<ImportResult, Diagnostics> {
        Ok(ImportResult::passthrough_with_identity(
            "name", "name", &req,
        ))
    }

    async fn move_state(
        &self,
        _: &Context,
        req: MoveStateRequest,
    ) -> Result<MoveStateResult, Diagnostics> {
        if req.source_type_name != "feat_gadget" {
            return Err(Diagnostic::error(
                "Move not supported",
                format!(
                    "{} cannot be moved from {}.",
                    self.type_name, req.source_type_name
                ),
            )
            .into());
        }
        let name = req.source_state["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let size = req.source_state["size"].as_i64().unwrap_or(1);
        let note = req.source_state["note"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let from = req
            .source_identity
            .as_ref()
            .and_then(|i| i["name"].as_str())
            .unwrap_or(&name);
        Ok(MoveStateResult {
            target_state: state(&name, size, &note),
            target_identity: Some(identity(from)),
            ..Default::default()
        })
    }
}

/// `list "feat_widget"`: the widgets whose name starts with `prefix`.
struct WidgetList;

#[async_trait]
impl ListResource<Cloud> for WidgetList {
    fn type_name(&self) -> &'static str {
        "feat_widget"
    }

    fn schema(&self) -> Schema {
        Schema::new().attribute(Attribute::string("prefix").optional())
    }

    async fn list(
        &self,
        _: &Context,
        cloud: &Cloud,
        req: ListRequest,
        out: &mut ListStream,
    ) -> Result<(), Diagnostics> {
        let prefix = req
            .config
            .get("prefix")
            .as_str()
            .unwrap_or_default()
            .to_string();
        let found: Vec<(String, (i64, String))> = cloud
            .lock()?
            .iter()
            .filter(|(n, _)| n.starts_with(&prefix))
            .map(|(n, v)| (n.clone(), v.clone()))
            .collect();
        for (name, (size, note)) in found {
            let mut item = ListItem::new(format!("widget {name}"), identity(&name));
            if req.include_resource {
                item = item.with_resource(state(&name, size, &note));
            }
            if !out.push(item).await {
                break;
            }
        }
        Ok(())
    }
}

/// `action "feat_widget_poke"`.
struct Poke;

#[async_trait]
impl Action<Cloud> for Poke {
    fn type_name(&self) -> &'static str {
        "feat_widget_poke"
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .attribute(Attribute::string("name").required())
            .attribute(Attribute::int64("steps").optional())
            .attribute(Attribute::string("mode").optional().validator(
                tfplugin::schema::validators::one_of(&["ok", "fail", "wait"]),
            ))
    }

    async fn plan(&self, _: &Context, cloud: Option<&Cloud>, config: &Value) -> Diagnostics {
        let mut d = Diagnostics::new();
        if let (Some(cloud), Some(name)) = (cloud, config.get("name").as_str()) {
            match cloud.lock() {
                Ok(m) if !m.contains_key(name) => d.attribute_warning(
                    "name",
                    "Widget not found",
                    format!("There is no widget {name:?} yet; it must exist when the action runs."),
                ),
                Ok(_) => {}
                Err(e) => d.push(e),
            }
        }
        d
    }

    async fn invoke(
        &self,
        ctx: &Context,
        _: &Cloud,
        config: &Value,
        progress: &Progress,
    ) -> Result<(), Diagnostics> {
        let name = config.get("name").as_str().unwrap_or_default();
        for i in 1..=config.get("steps").as_i64().unwrap_or(0) {
            progress.send(format!("poking {name}: {i}")).await;
        }
        match config.get("mode").as_str() {
            Some("fail") => {
                Err(Diagnostic::error("Poke failed", format!("{name} did not answer")).into())
            }
            Some("wait") => {
                ctx.stopped().await;
                Err(Diagnostic::error("Poke interrupted", "the provider was asked to stop").into())
            }
            _ => Ok(()),
        }
    }
}

struct Feat;

#[async_trait]
impl Provider for Feat {
    type Data = Cloud;

    fn type_name(&self) -> &'static str {
        "feat"
    }

    fn schema(&self) -> Schema {
        Schema::new()
    }

    async fn configure(&self, _: &Context, _: ConfigureRequest) -> Result<Cloud, Diagnostics> {
        Ok(Cloud::default())
    }

    fn resources(&self) -> Vec<Arc<dyn Resource<Cloud>>> {
        vec![
            Arc::new(Widget {
                type_name: "feat_widget",
                deprecated: false,
            }),
            Arc::new(Widget {
                type_name: "feat_gadget",
                deprecated: true,
            }),
        ]
    }

    fn list_resources(&self) -> Vec<Arc<dyn ListResource<Cloud>>> {
        vec![Arc::new(WidgetList)]
    }

    fn actions(&self) -> Vec<Arc<dyn Action<Cloud>>> {
        vec![Arc::new(Poke)]
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let opts = ServeOptions::new("registry.terraform.io/clouddb/feat");
    match tfplugin::serve_provider(Feat, opts).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e}");
            ExitCode::FAILURE
        }
    }
}
