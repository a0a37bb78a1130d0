//! Actions: protobuf ↔ [`crate::engine`] calls.

use super::convert::{decode_dv, diags_to_pb};
use super::{BoxStream, Collect, ProviderService};
use crate::diag::Diagnostics;
use crate::engine::ActionEvent;
use crate::proto::tfplugin6 as pb;
use crate::provider::Provider;
use crate::value::Value;
use futures_util::StreamExt;
use pb::invoke_action::event;

fn event_to_pb(e: ActionEvent) -> pb::invoke_action::Event {
    pb::invoke_action::Event {
        r#type: Some(match e {
            ActionEvent::Progress(message) => event::Type::Progress(event::Progress { message }),
            ActionEvent::Completed(d) => event::Type::Completed(event::Completed {
                diagnostics: diags_to_pb(&d),
            }),
        }),
    }
}

impl<P: Provider> ProviderService<P> {
    /// The action's config decoded with its schema's type, or the diagnostics saying why not.
    fn action_config(
        &self,
        name: &str,
        config: Option<&pb::DynamicValue>,
    ) -> Result<Value, Diagnostics> {
        let mut d = Diagnostics::new();
        self.engine
            .action(name)
            .collect_into(&mut d)
            .and_then(|e| decode_dv(config, &e.s.ty, "action configuration").collect_into(&mut d))
            .ok_or(d)
    }

    pub(super) async fn validate_action(
        &self,
        r: pb::validate_action_config::Request,
    ) -> pb::validate_action_config::Response {
        let d = match self.action_config(&r.type_name, r.config.as_ref()) {
            Ok(cfg) => self.engine.validate_action(&r.type_name, &cfg).await,
            Err(d) => d,
        };
        pb::validate_action_config::Response {
            diagnostics: diags_to_pb(&d),
        }
    }

    pub(super) async fn plan_action(
        &self,
        r: pb::plan_action::Request,
    ) -> pb::plan_action::Response {
        let deferral = r
            .client_capabilities
            .as_ref()
            .is_some_and(|c| c.deferral_allowed);
        let d = match self.action_config(&r.action_type, r.config.as_ref()) {
            Ok(cfg) => {
                self.engine
                    .plan_action(&r.action_type, &cfg, deferral)
                    .await
            }
            Err(d) => d,
        };
        pb::plan_action::Response {
            diagnostics: diags_to_pb(&d),
            deferred: None,
        }
    }

    pub(super) fn invoke_action(
        &self,
        r: pb::invoke_action::Request,
    ) -> BoxStream<pb::invoke_action::Event> {
        let events = match self.action_config(&r.action_type, r.config.as_ref()) {
            Ok(cfg) => self.engine.invoke_action(&r.action_type, cfg),
            Err(d) => Box::pin(futures_util::stream::iter([ActionEvent::Completed(d)])),
        };
        Box::pin(events.map(|e| Ok(event_to_pb(e))))
    }
}
