//! Data sources, ephemeral resources, functions and list resources.

use super::convert::{
    decode_dv, diags_to_pb, encode_dv, function_to_pb, scrub_unknowns, timestamp,
};
use super::resource::private;
use super::{Collect, ProviderService, guard, lookup};
use crate::diag::Diagnostics;
use crate::plan::check;
use crate::proto::tfplugin6 as pb;
use crate::schema::validate_config;
use std::collections::HashMap;

impl ProviderService {
    pub(super) async fn validate_data_source(
        &self,
        name: &str,
        config: Option<&pb::DynamicValue>,
    ) -> Diagnostics {
        let mut d = Diagnostics::new();
        let Some(e) = lookup(&self.data_sources, "data source", name).collect_into(&mut d) else {
            return d;
        };
        let Some(cfg) =
            decode_dv(config, &e.s.ty, "data source configuration").collect_into(&mut d)
        else {
            return d;
        };
        d.extend(validate_config(&e.s.schema.block, &cfg));
        let ctx = self.ctx(None);
        guard("validate", e.imp.validate(&ctx, &cfg))
            .await
            .map(|x| d.extend(x))
            .collect_into(&mut d);
        d
    }

    pub(super) async fn read_data(
        &self,
        r: pb::read_data_source::Request,
    ) -> pb::read_data_source::Response {
        let mut d = Diagnostics::new();
        let mut state = None;
        if let Some(e) =
            lookup(&self.data_sources, "data source", &r.type_name).collect_into(&mut d)
            && let Some(cfg) = decode_dv(r.config.as_ref(), &e.s.ty, "data source configuration")
                .collect_into(&mut d)
        {
            let ctx = self.ctx(r.client_capabilities.as_ref());
            if let Some(mut res) = guard("read", e.imp.read(&ctx, &cfg))
                .await
                .collect_into(&mut d)
            {
                d.extend(res.diagnostics);
                if !d.has_errors() {
                    if res.state.is_null() {
                        d.error(
                            "Provider returned a null object",
                            format!(
                                "The data source {} returned no object and no error.",
                                r.type_name
                            ),
                        );
                    }
                    d.extend(check::read_result(&e.s.schema, &e.s.ty, &res.state));
                }
                scrub_unknowns(&mut res.state);
                state = encode_dv(&e.s.ty, &res.state, "data source state").collect_into(&mut d);
            }
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
        let Some(e) = lookup(&self.ephemeral, "ephemeral resource", name).collect_into(&mut d)
        else {
            return d;
        };
        let Some(cfg) =
            decode_dv(config, &e.s.ty, "ephemeral resource configuration").collect_into(&mut d)
        else {
            return d;
        };
        d.extend(validate_config(&e.s.schema.block, &cfg));
        let ctx = self.ctx(None);
        guard("validate", e.imp.validate(&ctx, &cfg))
            .await
            .map(|x| d.extend(x))
            .collect_into(&mut d);
        d
    }

    pub(super) async fn open_ephemeral(
        &self,
        r: pb::open_ephemeral_resource::Request,
    ) -> pb::open_ephemeral_resource::Response {
        let mut d = Diagnostics::new();
        let mut resp = pb::open_ephemeral_resource::Response::default();
        if let Some(e) =
            lookup(&self.ephemeral, "ephemeral resource", &r.type_name).collect_into(&mut d)
            && let Some(cfg) = decode_dv(
                r.config.as_ref(),
                &e.s.ty,
                "ephemeral resource configuration",
            )
            .collect_into(&mut d)
        {
            let ctx = self.ctx(r.client_capabilities.as_ref());
            if let Some(mut res) = guard("open", e.imp.open(&ctx, &cfg))
                .await
                .collect_into(&mut d)
            {
                d.extend(res.diagnostics);
                scrub_unknowns(&mut res.result);
                resp.result =
                    encode_dv(&e.s.ty, &res.result, "ephemeral result").collect_into(&mut d);
                resp.private = Some(res.private.to_bytes()).filter(|b| !b.is_empty());
                resp.renew_at = res.renew_at.map(timestamp);
            }
        }
        resp.diagnostics = diags_to_pb(&d);
        resp
    }

    pub(super) async fn renew_ephemeral(
        &self,
        r: pb::renew_ephemeral_resource::Request,
    ) -> pb::renew_ephemeral_resource::Response {
        let mut d = Diagnostics::new();
        let mut resp = pb::renew_ephemeral_resource::Response::default();
        if let Some(e) =
            lookup(&self.ephemeral, "ephemeral resource", &r.type_name).collect_into(&mut d)
        {
            let p = private(r.private.as_deref().unwrap_or_default(), "private data");
            if let Some(p) = p.collect_into(&mut d) {
                let ctx = self.ctx(None);
                if let Some(res) = guard("renew", e.imp.renew(&ctx, p))
                    .await
                    .collect_into(&mut d)
                {
                    d.extend(res.diagnostics);
                    resp.private = Some(res.private.to_bytes()).filter(|b| !b.is_empty());
                    resp.renew_at = res.renew_at.map(timestamp);
                }
            }
        }
        resp.diagnostics = diags_to_pb(&d);
        resp
    }

    pub(super) async fn close_ephemeral(
        &self,
        r: pb::close_ephemeral_resource::Request,
    ) -> pb::close_ephemeral_resource::Response {
        let mut d = Diagnostics::new();
        if let Some(e) =
            lookup(&self.ephemeral, "ephemeral resource", &r.type_name).collect_into(&mut d)
        {
            let p = private(r.private.as_deref().unwrap_or_default(), "private data");
            if let Some(p) = p.collect_into(&mut d) {
                let ctx = self.ctx(None);
                guard("close", e.imp.close(&ctx, p))
                    .await
                    .map(|x| d.extend(x))
                    .collect_into(&mut d);
            }
        }
        pb::close_ephemeral_resource::Response {
            diagnostics: diags_to_pb(&d),
        }
    }

    pub(super) fn functions_pb(&self) -> HashMap<String, pb::Function> {
        self.functions
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
        let Some(f) = self.functions.get(&r.name) else {
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
                Err(e) => return fail(format!("{}: {}", e.summary, e.detail), Some(i as i64)),
            }
        }
        let ctx = self.ctx(None);
        match guard("function", f.call(&ctx, args)).await {
            Ok(Ok(v)) => match encode_dv(&sig.return_type, &v, "function result") {
                Ok(dv) => pb::call_function::Response {
                    result: Some(dv),
                    error: None,
                },
                Err(e) => fail(e.detail, None),
            },
            Ok(Err(fe)) => fail(fe.text, fe.argument),
            Err(p) => fail(p.detail, None),
        }
    }

    pub(super) async fn validate_list(
        &self,
        name: &str,
        config: Option<&pb::DynamicValue>,
    ) -> Diagnostics {
        let mut d = Diagnostics::new();
        let Some(e) = lookup(&self.lists, "list resource", name).collect_into(&mut d) else {
            return d;
        };
        if let Some(cfg) = decode_dv(config, &e.s.ty, "list configuration").collect_into(&mut d) {
            d.extend(validate_config(&e.s.schema.block, &cfg));
        }
        d
    }

    pub(super) async fn list(
        &self,
        r: pb::list_resource::Request,
    ) -> Vec<pb::list_resource::Event> {
        let mut d = Diagnostics::new();
        let diag_event = |d: &Diagnostics| pb::list_resource::Event {
            diagnostic: diags_to_pb(d),
            ..Default::default()
        };
        let Some(e) = lookup(&self.lists, "list resource", &r.type_name).collect_into(&mut d)
        else {
            return vec![diag_event(&d)];
        };
        let Some(cfg) =
            decode_dv(r.config.as_ref(), &e.s.ty, "list configuration").collect_into(&mut d)
        else {
            return vec![diag_event(&d)];
        };
        let ctx = self.ctx(None);
        let items = match guard(
            "list",
            e.imp.list(&ctx, &cfg, r.include_resource_object, r.limit),
        )
        .await
        {
            Ok(Ok(items)) => items,
            Ok(Err(errs)) => return vec![diag_event(&errs)],
            Err(p) => return vec![diag_event(&p.into())],
        };
        let res = self.resources.get(&r.type_name);
        let id_ty = res.and_then(|e| e.identity.as_ref().map(|(_, t)| t.clone()));
        items
            .into_iter()
            .map(|mut it| {
                let mut d = std::mem::take(&mut it.diagnostics);
                let identity = id_ty.as_ref().and_then(|t| {
                    encode_dv(t, &it.identity, "identity")
                        .collect_into(&mut d)
                        .map(|dv| pb::ResourceIdentityData {
                            identity_data: Some(dv),
                        })
                });
                let resource_object = match (it.resource_object.take(), res) {
                    (Some(mut v), Some(e)) => {
                        scrub_unknowns(&mut v);
                        encode_dv(&e.s.ty, &v, "resource object").collect_into(&mut d)
                    }
                    _ => None,
                };
                pb::list_resource::Event {
                    identity,
                    display_name: it.display_name,
                    resource_object,
                    diagnostic: diags_to_pb(&d),
                }
            })
            .collect()
    }
}
