//! List resources: protobuf ↔ [`crate::engine`] calls.

use super::convert::{decode_dv, diags_to_pb, encode_dv};
use super::{BoxStream, Collect, ProviderService};
use crate::diag::Diagnostics;
use crate::engine::ListedItem;
use crate::proto::tfplugin6 as pb;
use crate::provider::Provider;
use crate::value::Type;
use futures_util::StreamExt;

fn problems(d: &Diagnostics) -> pb::list_resource::Event {
    pb::list_resource::Event {
        diagnostic: diags_to_pb(d),
        ..Default::default()
    }
}

/// One event; an identity or object that cannot be encoded (the engine checked them, so
/// only a codec limit could cause it) becomes the event's error instead.
fn event_to_pb(
    it: ListedItem,
    identity_ty: Option<&Type>,
    resource_ty: Option<&Type>,
) -> pb::list_resource::Event {
    let mut d = it.diagnostics;
    let identity = it
        .identity
        .zip(identity_ty)
        .and_then(|(v, t)| encode_dv(t, &v, "identity").collect_into(&mut d))
        .map(|dv| pb::ResourceIdentityData {
            identity_data: Some(dv),
        });
    let resource_object = it
        .resource_object
        .zip(resource_ty)
        .and_then(|(v, t)| encode_dv(t, &v, "resource object").collect_into(&mut d));
    pb::list_resource::Event {
        identity,
        display_name: it.display_name,
        resource_object,
        diagnostic: diags_to_pb(&d),
    }
}

impl<P: Provider> ProviderService<P> {
    pub(super) async fn validate_list(
        &self,
        name: &str,
        config: Option<&pb::DynamicValue>,
    ) -> Diagnostics {
        let mut d = Diagnostics::new();
        if let Some(e) = self.engine.list_resource(name).collect_into(&mut d)
            && let Some(cfg) = decode_dv(config, &e.s.ty, "list configuration").collect_into(&mut d)
        {
            d.extend(self.engine.validate_list(name, &cfg).await);
        }
        d
    }

    pub(super) fn list(
        &self,
        r: pb::list_resource::Request,
    ) -> BoxStream<pb::list_resource::Event> {
        let mut d = Diagnostics::new();
        let cfg = self
            .engine
            .list_resource(&r.type_name)
            .collect_into(&mut d)
            .and_then(|e| {
                decode_dv(r.config.as_ref(), &e.s.ty, "list configuration").collect_into(&mut d)
            });
        let Some(cfg) = cfg else {
            return Box::pin(futures_util::stream::iter([Ok(problems(&d))]));
        };
        let res = self.engine.resources().get(&r.type_name);
        let identity_ty = res.and_then(|e| e.identity.as_ref().map(|(_, t)| t.clone()));
        let resource_ty = res.map(|e| e.s.ty.clone());
        let items = self
            .engine
            .list(&r.type_name, cfg, r.include_resource_object, r.limit);
        Box::pin(
            items.map(move |it| Ok(event_to_pb(it, identity_ty.as_ref(), resource_ty.as_ref()))),
        )
    }
}
