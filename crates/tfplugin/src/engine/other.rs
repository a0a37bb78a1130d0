//! Provider configuration, data sources, ephemeral resources and functions.

use super::{Collect, Configuration, Engine, guard, private, scrub_unknowns, validated};
use crate::diag::Diagnostics;
use crate::model::conform;
use crate::plan::check;
use crate::provider::{ConfigureRequest, FunctionError, Provider};
use crate::value::Value;
use std::sync::Arc;
use std::time::SystemTime;

/// An opened ephemeral value.
#[derive(Debug, Default)]
pub struct EphemeralOpened {
    /// The value (None on failure).
    pub result: Option<Value>,
    /// Private bytes for renew/close.
    pub private: Vec<u8>,
    /// When to renew.
    pub renew_at: Option<SystemTime>,
    /// Every diagnostic of the call (decode, validation, the handler, the checks), in order.
    pub diagnostics: Diagnostics,
}

/// A function call's outcome.
pub type FunctionCall = Result<Value, FunctionError>;

impl<P: Provider> Engine<P> {
    /// `ValidateProviderConfig`: schema validators, then the provider's own checks.
    pub async fn validate_provider(&self, config: &Value) -> Diagnostics {
        let ctx = self.context(false);
        let own = self.provider.validate_config(&ctx, config);
        validated(&self.provider_schema.schema.block, config, own).await
    }

    /// `ConfigureProvider`. With unknown values in the configuration the provider's
    /// `configure` is not called and the configuration is recorded as unknown (see
    /// [`crate::provider`]).
    pub async fn configure(
        &self,
        config: Value,
        terraform_version: String,
        deferral_allowed: bool,
    ) -> Diagnostics {
        let mut d = Diagnostics::new();
        if let Ok(mut v) = self.terraform_version.write() {
            v.clone_from(&terraform_version);
        }
        if !config.is_wholly_known() {
            let unknown: Vec<String> = match &config {
                Value::Object(m) => m
                    .iter()
                    .filter(|(_, v)| !v.is_wholly_known())
                    .map(|(k, _)| k.clone())
                    .collect(),
                _ => vec!["(the whole block)".into()],
            };
            tracing::info!(attributes = ?unknown, "provider configuration has unknown values; not configuring yet");
            self.set_configuration(Configuration::Unknown(unknown));
            return d;
        }
        let ctx = self.context(deferral_allowed);
        let req = ConfigureRequest {
            config,
            terraform_version,
        };
        match guard("configure", self.provider.configure(&ctx, req)).await {
            Ok(Ok(data)) => self.set_configuration(Configuration::Ready(Arc::new(data))),
            Ok(Err(errs)) => {
                d.extend(errs);
                self.set_configuration(Configuration::NotConfigured);
            }
            Err(p) => d.push(p),
        }
        d
    }

    /// `ValidateDataResourceConfig`.
    pub async fn validate_data_source(&self, name: &str, config: &Value) -> Diagnostics {
        let mut d = Diagnostics::new();
        let Some(e) = self.data_source(name).collect_into(&mut d) else {
            return d;
        };
        let ctx = self.context(false);
        d.extend(validated(&e.s.schema.block, config, e.imp.validate(&ctx, config)).await);
        d
    }

    /// `ReadDataSource`: the result must be a wholly known object keeping the config.
    pub async fn read_data_source(
        &self,
        name: &str,
        config: &Value,
        deferral_allowed: bool,
    ) -> (Option<Value>, Diagnostics) {
        let mut d = Diagnostics::new();
        let Some(e) = self.data_source(name).collect_into(&mut d) else {
            return (None, d);
        };
        let Some(data) = self
            .data(&format!("read data source {name}"))
            .collect_into(&mut d)
        else {
            return (None, d);
        };
        let ctx = self.context(deferral_allowed);
        let res = guard("read", e.imp.read(&ctx, &data, config))
            .await
            .collect_into(&mut d)
            .and_then(|r| r.collect_into(&mut d));
        let Some(res) = res else {
            return (None, d);
        };
        d.extend(res.diagnostics);
        let mut state = match conform(res.state, &e.s.ty) {
            Ok(v) => v,
            Err(err) => {
                d.push(err.to_diagnostic());
                return (None, d);
            }
        };
        if !d.has_errors() {
            if state.is_null() {
                d.error(
                    "Provider returned a null object",
                    format!("The data source {name} returned no object and no error."),
                );
            }
            d.extend(check::read_result(&e.s.schema, &e.s.ty, &state));
        }
        scrub_unknowns(&mut state);
        (Some(state), d)
    }

    /// `ValidateEphemeralResourceConfig`.
    pub async fn validate_ephemeral(&self, name: &str, config: &Value) -> Diagnostics {
        let mut d = Diagnostics::new();
        let Some(e) = self.ephemeral_resource(name).collect_into(&mut d) else {
            return d;
        };
        let ctx = self.context(false);
        d.extend(validated(&e.s.schema.block, config, e.imp.validate(&ctx, config)).await);
        d
    }

    /// `OpenEphemeralResource`.
    pub async fn open_ephemeral(
        &self,
        name: &str,
        config: &Value,
        deferral_allowed: bool,
    ) -> EphemeralOpened {
        let mut out = EphemeralOpened::default();
        let d = &mut out.diagnostics;
        let Some(e) = self.ephemeral_resource(name).collect_into(d) else {
            return out;
        };
        let Some(data) = self.data(&format!("open {name}")).collect_into(d) else {
            return out;
        };
        let ctx = self.context(deferral_allowed);
        if let Some(res) = guard("open", e.imp.open(&ctx, &data, config))
            .await
            .collect_into(d)
            .and_then(|r| r.collect_into(d))
        {
            d.extend(res.diagnostics);
            match conform(res.result, &e.s.ty) {
                Ok(mut v) => {
                    scrub_unknowns(&mut v);
                    out.result = Some(v);
                }
                Err(err) => d.push(err.to_diagnostic()),
            }
            out.private = res.private.to_bytes();
            out.renew_at = res.renew_at;
        }
        out
    }

    /// `RenewEphemeralResource`: new private bytes and renew time.
    pub async fn renew_ephemeral(
        &self,
        name: &str,
        private_bytes: &[u8],
    ) -> (Vec<u8>, Option<SystemTime>, Diagnostics) {
        let mut d = Diagnostics::new();
        let inputs = self
            .ephemeral_resource(name)
            .collect_into(&mut d)
            .zip(private(private_bytes, "private data").collect_into(&mut d));
        let Some((e, p)) = inputs else {
            return (private_bytes.to_vec(), None, d);
        };
        let Some(data) = self.data(&format!("renew {name}")).collect_into(&mut d) else {
            return (private_bytes.to_vec(), None, d);
        };
        let ctx = self.context(false);
        match guard("renew", e.imp.renew(&ctx, &data, p))
            .await
            .collect_into(&mut d)
            .and_then(|r| r.collect_into(&mut d))
        {
            Some(res) => {
                d.extend(res.diagnostics);
                (res.private.to_bytes(), res.renew_at, d)
            }
            None => (private_bytes.to_vec(), None, d),
        }
    }

    /// `CloseEphemeralResource`.
    pub async fn close_ephemeral(&self, name: &str, private_bytes: &[u8]) -> Diagnostics {
        let mut d = Diagnostics::new();
        let inputs = self
            .ephemeral_resource(name)
            .collect_into(&mut d)
            .zip(private(private_bytes, "private data").collect_into(&mut d));
        let Some((e, p)) = inputs else {
            return d;
        };
        let Some(data) = self.data(&format!("close {name}")).collect_into(&mut d) else {
            return d;
        };
        let ctx = self.context(false);
        if let Some(r) = guard("close", e.imp.close(&ctx, &data, p))
            .await
            .collect_into(&mut d)
        {
            r.collect_into(&mut d);
        }
        d
    }

    /// `CallFunction` with decoded arguments; the result conforms to the return type.
    pub async fn call_function(&self, name: &str, args: Vec<Value>) -> FunctionCall {
        let Some(f) = self.functions.get(name) else {
            return Err(FunctionError {
                text: format!("This provider has no function {name:?}."),
                argument: None,
            });
        };
        let ctx = self.context(false);
        let ret = f.signature().return_type;
        match guard("function", f.call(&ctx, args)).await {
            Ok(Ok(v)) => conform(v, &ret).map_err(|e| FunctionError {
                text: e.to_string(),
                argument: None,
            }),
            Ok(Err(fe)) => Err(fe),
            Err(p) => Err(FunctionError {
                text: p.detail,
                argument: None,
            }),
        }
    }
}
