//! `--debug` mode: plaintext unix socket in the foreground, print the
//! `TF_REATTACH_PROVIDERS` line, serve until Ctrl-C.

use std::io::Write;

use super::{ServeError, ServeOptions, install_signal_handlers, listener, router, run};
use crate::proto::tfplugin6::provider_server::Provider;

/// The JSON value of `TF_REATTACH_PROVIDERS` (compact, keys in terraform-plugin-go order):
/// `{"<address>": {"Protocol":"grpc","ProtocolVersion":6,"Pid":…,"Test":true,"Addr":{…}}}`.
/// `Test: true` tells Terraform not to kill or Shutdown the process when it is done.
pub fn reattach_json(provider_address: &str, pid: u32, network: &str, address: &str) -> String {
    let addr = serde_json::Value::String(provider_address.to_string());
    let net = serde_json::Value::String(network.to_string());
    let path = serde_json::Value::String(address.to_string());
    format!(
        r#"{{{addr}:{{"Protocol":"grpc","ProtocolVersion":6,"Pid":{pid},"Test":true,"Addr":{{"Network":{net},"String":{path}}}}}}}"#
    )
}

/// The text printed on stdout in debug mode: instructions plus a
/// `TF_REATTACH_PROVIDERS='…'` line, single-quoted for POSIX shells (embedded `'` escaped).
pub fn reattach_message(json: &str) -> String {
    let quoted = json.replace('\'', r#"'"'"'"#);
    format!(
        "Provider started. To attach Terraform CLI, set the TF_REATTACH_PROVIDERS environment variable with the following:\n\n\tTF_REATTACH_PROVIDERS='{quoted}'\n\n"
    )
}

pub(super) async fn serve_debug<S: Provider>(
    provider_service: S,
    opts: ServeOptions,
) -> Result<(), ServeError> {
    let listener = listener::bind().map_err(ServeError::Listen)?;
    install_signal_handlers(opts.shutdown.clone(), true)?;
    let json = reattach_json(
        &opts.provider_address,
        std::process::id(),
        listener.network(),
        &listener.address(),
    );
    let router = router(provider_service, &opts);
    {
        let mut out = std::io::stdout().lock();
        out.write_all(reattach_message(&json).as_bytes())
            .and_then(|()| out.flush())
            .map_err(ServeError::Stdout)?;
    }
    run(router, listener, None, opts.shutdown).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape() {
        let j = reattach_json(
            "registry.terraform.io/clouddb/clouddb",
            42,
            "unix",
            "/tmp/plugin1",
        );
        assert_eq!(
            j,
            r#"{"registry.terraform.io/clouddb/clouddb":{"Protocol":"grpc","ProtocolVersion":6,"Pid":42,"Test":true,"Addr":{"Network":"unix","String":"/tmp/plugin1"}}}"#
        );
        let v: serde_json::Value = serde_json::from_str(&j).expect("json");
        assert_eq!(v["registry.terraform.io/clouddb/clouddb"]["Pid"], 42);
    }
}
