//! Data sources, ephemeral resources and functions: protobuf ↔ engine.

use super::convert::{decode_dv, diags_to_pb, encode_dv, function_to_pb, timestamp};
use super::{Collect, ProviderService};
use crate::diag::Diagnostics;
use crate::proto::tfplugin6 as pb;
use crate::provider::Provider;
use std::collections::HashMap;

impl<P: Provider> ProviderService<P> {
    pub(super) async fn validate_data_source(
        &self,
        name: &str,
        config: Option<&pb::DynamicValue>,
    ) -> Diagnostics {
        let mut d = Diagnostics::new();
        if let Some(e) = self.engine.data_source(name).collect_into(&mut d)
            && let Some(cfg) =
                decode_dv(config, &e.s.ty, "data source configuration").collect_into(&mut d)
        {
            d.extend(self.engine.validate_data_source(name, &cfg).await);
        }
        d
    }

    pub(super) async fn read_data(
        &self,
        r: pb::read_data_source::Request,
    ) -> pb::read_data_source::Response {
        let mut d = Diagnostics::new();
        let mut state = None;
        if let Some(e) = self.engine.data_source(&r.type_name).collect_into(&mut d)
            && let Some(cfg) = decode_dv(r.config.as_ref(), &e.s.ty, "data source configuration")
                .collect_into(&mut d)
        {
            let deferral = r
                .client_capabilities
                .as_ref()
                .is_some_and(|c| c.deferral_allowed);
            let (v, diags) = self
                .engine
                .read_data_source(&r.type_name, &cfg, deferral)
                .await;
            d.extend(diags);
            state =
                v.and_then(|v| encode_dv(&e.s.ty, &v, "data source state").collect_into(&mut d));
        }
        pb::read_data_source::Response {
            state,
            diagnostics: diags_to_pb(&d),
            deferred: None,
        }
    }

    pub(super) async fn validate_ephemeral(
        &self,
        name: &str,
        config: Option<&pb::DynamicValue>,
    ) -> Diagnostics {
        let mut d = Diagnostics::new();
        if let Some(e) = self.engine.ephemeral_resource(name).collect_into(&mut d)
            && let Some(cfg) =
                decode_dv(config, &e.s.ty, "ephemeral resource configuration").collect_into(&mut d)
        {
            d.extend(self.engine.validate_ephemeral(name, &cfg).await);
        }
        d
    }

    pub(super) async fn open_ephemeral(
        &self,
        r: pb::open_ephemeral_resource::Request,
    ) -> pb::open_ephemeral_resource::Response {
        let mut d = Diagnostics::new();
        let mut resp = pb::open_ephemeral_resource::Response::default();
        if let Some(e) = self
            .engine
            .ephemeral_resource(&r.type_name)
            .collect_into(&mut d)
            && let Some(cfg) = decode_dv(
                r.config.as_ref(),
                &e.s.ty,
                "ephemeral resource configuration",
            )
            .collect_into(&mut d)
        {
            let deferral = r
                .client_capabilities
                .as_ref()
                .is_some_and(|c| c.deferral_allowed);
            let out = self
                .engine
                .open_ephemeral(&r.type_name, &cfg, deferral)
                .await;
            d.extend(out.diagnostics);
            resp.result = out
                .result
                .and_then(|v| encode_dv(&e.s.ty, &v, "ephemeral result").collect_into(&mut d));
            resp.private = Some(out.private).filter(|b| !b.is_empty());
            resp.renew_at = out.renew_at.map(timestamp);
        }
        resp.diagnostics = diags_to_pb(&d);
        resp
    }

    pub(super) async fn renew_ephemeral(
        &self,
        r: pb::renew_ephemeral_resource::Request,
    ) -> pb::renew_ephemeral_resource::Response {
        let (private, renew_at, d) = self
            .engine
            .renew_ephemeral(&r.type_name, r.private.as_deref().unwrap_or_default())
            .await;
        pb::renew_ephemeral_resource::Response {
            private: Some(private).filter(|b| !b.is_empty()),
            renew_at: renew_at.map(timestamp),
            diagnostics: diags_to_pb(&d),
        }
    }

    pub(super) async fn close_ephemeral(
        &self,
        r: pb::close_ephemeral_resource::Request,
    ) -> pb::close_ephemeral_resource::Response {
        let d = self
            .engine
            .close_ephemeral(&r.type_name, r.private.as_deref().unwrap_or_default())
            .await;
        pb::close_ephemeral_resource::Response {
            diagnostics: diags_to_pb(&d),
        }
    }

    pub(super) fn functions_pb(&self) -> HashMap<String, pb::Function> {
        self.engine
            .functions()
            .iter()
            .map(|(n, f)| (n.clone(), function_to_pb(&f.signature())))
            .collect()
    }

    pub(super) async fn call(&self, r: pb::call_function::Request) -> pb::call_function::Response {
        let fail = |text: String, arg: Option<i64>| pb::call_function::Response {
            result: None,
            error: Some(pb::FunctionError {
                text,
                function_argument: arg,
            }),
        };
        let Some(f) = self.engine.functions().get(&r.name) else {
            return fail(format!("This provider has no function {:?}.", r.name), None);
        };
        let sig = f.signature();
        if r.arguments.len() < sig.parameters.len()
            || (sig.variadic.is_none() && r.arguments.len() > sig.parameters.len())
        {
            return fail(
                format!(
                    "{} expects {} arguments, got {}.",
                    r.name,
                    sig.parameters.len(),
                    r.arguments.len()
                ),
                None,
            );
        }
        let mut args = Vec::with_capacity(r.arguments.len());
        for (i, dv) in r.arguments.iter().enumerate() {
            let Some(p) = sig.parameters.get(i).or(sig.variadic.as_ref()) else {
                break;
            };
            match decode_dv(Some(dv), &p.ty, &format!("argument {:?}", p.name)) {
                Ok(v) => args.push(v),
                Err(e) => {
                    let idx = i64::try_from(i).unwrap_or(i64::MAX);
                    return fail(format!("{}: {}", e.summary, e.detail), Some(idx));
                }
            }
        }
        match self.engine.call_function(&r.name, args).await {
            Ok(v) => match encode_dv(&sig.return_type, &v, "function result") {
                Ok(dv) => pb::call_function::Response {
                    result: Some(dv),
                    error: None,
                },
                Err(e) => fail(e.detail, None),
            },
            Err(fe) => fail(fe.text, fe.argument),
        }
    }
}
