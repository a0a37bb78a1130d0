//! hclog-compatible JSON logging to stderr, the format Terraform parses from
//! provider processes:
//!
//! ```text
//! {"@level":"debug","@message":"...","@module":"provider.terraform-provider-clouddb","@timestamp":"2026-01-02T03:04:05.123456Z","key":"value"}
//! ```
//!
//! **Level.** The first non-empty of `TF_LOG_PROVIDER_<TYPE>` (provider type
//! upper-cased, e.g. `TF_LOG_PROVIDER_CLOUDDB`), `TF_LOG_PROVIDER`, `TF_LOG`:
//! `TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR` (any case); `JSON` means TRACE and
//! `OFF` means nothing. Any other non-empty value means TRACE, as in Terraform
//! (which then filters with the same variable). When none is set nothing is
//! written: Terraform drops provider logs then anyway.
//!
//! **Inherited fields.** An event also carries the fields of the spans it is in (the
//! innermost span's first, the event's own before any): the framework's gRPC layer opens one
//! span per RPC with `tf_rpc`, `tf_req_id`, `tf_resource_type`, … so every provider line says
//! which Terraform call it belongs to, as terraform-plugin-log's do. Span fields go through
//! the same [`DENYLIST`].
//!
//! **Sensitive values.** Never pass the value of a sensitive attribute, a
//! token, or a whole config/state `Value` as a log field. As a safety net, a
//! field is never written when its name contains (case-insensitively) one of
//! [`DENYLIST`] or starts with `sensitive`; and [`Sensitive`] wraps a value so
//! that its `Debug`/`Display` print `(sensitive value)`.

use std::fmt;
use std::io::Write;

use serde_json::{Map, Value as Json};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

/// Field-name fragments that are never logged: a field whose lower-cased name contains one
/// is dropped (name and value) by [`HclogLayer`]. A safety net, not a licence to log secrets.
pub const DENYLIST: &[&str] = &[
    "token",
    "password",
    "passwd",
    "secret",
    "private_key",
    "api_key",
    "apikey",
    "authorization",
    "credential",
    "cookie",
];

/// Whether a field with this name is dropped: its name, ASCII-lower-cased, contains a
/// [`DENYLIST`] entry (`access_token`, `DB_PASSWORD`) or starts with `sensitive`. The
/// `message` field is never checked (it is the log line itself).
pub fn is_denied(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("sensitive") || DENYLIST.iter().any(|d| lower.contains(d))
}

/// Wraps a value so it is never shown: `Debug` and `Display` print `(sensitive value)`, the
/// placeholder Terraform uses, whatever `T` is (even if `T` implements neither).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Sensitive<T>(pub T);

impl<T> fmt::Debug for Sensitive<T> {
    /// Always `(sensitive value)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(sensitive value)")
    }
}

impl<T> fmt::Display for Sensitive<T> {
    /// Always `(sensitive value)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(sensitive value)")
    }
}

/// Maps one TF_LOG-style value to a level filter, as Terraform reads it: `TRACE`, `DEBUG`,
/// `INFO`, `WARN`, `ERROR`, `OFF` in any case, surrounding whitespace ignored; `JSON` and any
/// other non-empty value mean TRACE. `None` for an empty or all-whitespace value (unset).
pub fn parse_level(value: &str) -> Option<LevelFilter> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    Some(match v.to_ascii_uppercase().as_str() {
        "TRACE" | "JSON" => LevelFilter::TRACE,
        "DEBUG" => LevelFilter::DEBUG,
        "INFO" => LevelFilter::INFO,
        "WARN" => LevelFilter::WARN,
        "ERROR" => LevelFilter::ERROR,
        "OFF" => LevelFilter::OFF,
        _ => LevelFilter::TRACE,
    })
}

/// The level chosen by the environment for provider `provider_type`: the first of
/// `TF_LOG_PROVIDER_<TYPE>` (upper-cased), `TF_LOG_PROVIDER`, `TF_LOG` that is set, valid
/// UTF-8 and non-blank, mapped by [`parse_level`]; `LevelFilter::OFF` when none is.
pub fn level_from_env(provider_type: &str) -> LevelFilter {
    let per_provider = format!("TF_LOG_PROVIDER_{}", provider_type.to_ascii_uppercase());
    [per_provider.as_str(), "TF_LOG_PROVIDER", "TF_LOG"]
        .iter()
        .filter_map(|var| std::env::var(var).ok())
        .find_map(|v| parse_level(&v))
        .unwrap_or(LevelFilter::OFF)
}

/// A fresh request id for the `tf_req_id` log field: UUIDv4-shaped, like the Go framework's,
/// from std's randomly seeded hasher (an id for reading logs, not a secret).
pub fn request_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let word = |salt: u64| {
        let mut h = std::hash::RandomState::new().build_hasher();
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed) ^ salt);
        h.finish()
    };
    let (a, b) = (word(0), word(u64::MAX));
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        (a >> 32) as u32,
        (a >> 16) as u16,
        (a as u16) & 0x0fff,
        ((b >> 48) as u16 & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

/// Formats a time the way hclog does: `2006-01-02T15:04:05.000000Z07:00`, converted to UTC so
/// the zone is always `Z`, with exactly six fractional digits (truncated, not rounded).
pub fn hclog_timestamp(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

/// A `tracing` layer writing one hclog JSON object per event, newline-terminated, in one
/// `write_all` per line (so concurrent lines do not interleave on stderr). Keys: `@level`,
/// `@message` (the event's `message`, empty if none), `@module`, `@timestamp`, then the
/// event's fields minus [`is_denied`] ones; a field cannot override an `@` key and the first
/// of two same-named fields wins. Spans are ignored. Write errors are dropped: logging never
/// fails a request.
pub struct HclogLayer<W> {
    module: String,
    make_writer: W,
}

impl<W> fmt::Debug for HclogLayer<W> {
    /// Shows the module only (the writer need not be `Debug`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HclogLayer")
            .field("module", &self.module)
            .finish()
    }
}

impl HclogLayer<fn() -> std::io::Stderr> {
    /// Layer for `@module` = `provider.terraform-provider-<provider_type>` (the module name
    /// Terraform expects from a provider), writing to stderr. No level filtering of its own.
    pub fn stderr(provider_type: &str) -> Self {
        Self::new(
            format!("provider.terraform-provider-{provider_type}"),
            std::io::stderr,
        )
    }
}

impl<W, O> HclogLayer<W>
where
    W: Fn() -> O + Send + Sync + 'static,
    O: Write,
{
    /// Layer with a given `@module` and writer factory; `make_writer` is called once per event.
    /// No level filtering of its own: combine with [`targets`].
    pub fn new(module: impl Into<String>, make_writer: W) -> Self {
        Self {
            module: module.into(),
            make_writer,
        }
    }

    /// Renders one event as a JSON line (without newline); `inherited` are the fields of its
    /// spans, innermost first.
    fn render(&self, event: &Event<'_>, inherited: Vec<(String, Json)>) -> String {
        let mut visitor = FieldVisitor::default();
        event.record(&mut visitor);
        let mut obj = Map::new();
        let level = match *event.metadata().level() {
            Level::TRACE => "trace",
            Level::DEBUG => "debug",
            Level::INFO => "info",
            Level::WARN => "warn",
            Level::ERROR => "error",
        };
        obj.insert("@level".into(), Json::String(level.into()));
        obj.insert(
            "@message".into(),
            Json::String(visitor.message.unwrap_or_default()),
        );
        obj.insert("@module".into(), Json::String(self.module.clone()));
        obj.insert(
            "@timestamp".into(),
            Json::String(hclog_timestamp(time::OffsetDateTime::now_utc())),
        );
        for (k, v) in visitor.fields.into_iter().chain(inherited) {
            obj.entry(k).or_insert(v);
        }
        Json::Object(obj).to_string()
    }
}

/// The recorded fields of one span, kept in its extensions for the events inside it.
struct SpanFields(Vec<(String, Json)>);

impl<S, W, O> Layer<S> for HclogLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: Fn() -> O + Send + Sync + 'static,
    O: Write,
{
    /// Keeps the span's fields (denylist applied) for the events inside it.
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut visitor = FieldVisitor::default();
        attrs.record(&mut visitor);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(visitor.fields));
        }
    }

    /// A field recorded later (`Span::record`) joins the span's fields.
    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let mut visitor = FieldVisitor::default();
        values.record(&mut visitor);
        if let Some(span) = ctx.span(id) {
            let mut ext = span.extensions_mut();
            match ext.get_mut::<SpanFields>() {
                Some(f) => f.0.extend(visitor.fields),
                None => ext.insert(SpanFields(visitor.fields)),
            }
        }
    }

    /// Writes the event as one JSON line; I/O errors are ignored.
    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut inherited = Vec::new();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope {
                if let Some(f) = span.extensions().get::<SpanFields>() {
                    inherited.extend(f.0.iter().cloned());
                }
            }
        }
        let mut line = self.render(event, inherited);
        line.push('\n');
        let mut w = (self.make_writer)();
        // One write per line so concurrent lines do not interleave.
        let _ = w.write_all(line.as_bytes());
        let _ = w.flush();
    }
}

#[derive(Default)]
struct FieldVisitor {
    message: Option<String>,
    fields: Vec<(String, Json)>,
}

impl FieldVisitor {
    fn put(&mut self, field: &Field, value: Json) {
        let name = field.name();
        if name == "message" {
            self.message = Some(match value {
                Json::String(s) => s,
                other => other.to_string(),
            });
        } else if !is_denied(name) {
            self.fields.push((name.to_string(), value));
        }
    }
}

impl Visit for FieldVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Json::String(value.to_string()));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Json::Bool(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Json::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Json::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Json::from(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, Json::String(value.to_string()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, Json::String(format!("{value:?}")));
    }
}

/// `tracing` targets (and their submodules) whose own logs are capped at WARN: their
/// TRACE/DEBUG output is protocol noise (TLS and HTTP/2 frames).
pub const QUIET_DEPENDENCIES: &[&str] = &[
    "h2",
    "hyper",
    "hyper_util",
    "tonic",
    "tower",
    "rustls",
    "tokio_rustls",
    "aws_lc_rs",
    "mio",
    "tokio",
];

/// The per-target filter: `level` for everything, `min(level, WARN)` for
/// [`QUIET_DEPENDENCIES`] (so `OFF` stays off for them too).
pub fn targets(level: LevelFilter) -> tracing_subscriber::filter::Targets {
    let capped = std::cmp::min(level, LevelFilter::WARN);
    QUIET_DEPENDENCIES.iter().fold(
        tracing_subscriber::filter::Targets::new().with_default(level),
        |t, dep| t.with_target(*dep, capped),
    )
}

/// Installs the global subscriber: hclog JSON on stderr at [`level_from_env`], filtered by
/// [`targets`]. Does nothing (and returns `Ok`) when the level is off. Never writes to stdout,
/// which belongs to the go-plugin handshake.
///
/// # Errors
/// When a global subscriber is already set (e.g. a second call); the existing one stays.
pub fn init(provider_type: &str) -> Result<(), tracing_subscriber::util::TryInitError> {
    let level = level_from_env(provider_type);
    if level == LevelFilter::OFF {
        return Ok(());
    }
    tracing_subscriber::registry()
        .with(HclogLayer::stderr(provider_type).with_filter(targets(level)))
        .try_init()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::Error::other("poisoned"))?
                .extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn levels() {
        assert_eq!(parse_level("debug"), Some(LevelFilter::DEBUG));
        assert_eq!(parse_level("JSON"), Some(LevelFilter::TRACE));
        assert_eq!(parse_level("off"), Some(LevelFilter::OFF));
        assert_eq!(parse_level("bogus"), Some(LevelFilter::TRACE));
        assert_eq!(parse_level(""), None);
        let t = targets(LevelFilter::TRACE);
        assert!(!t.would_enable("h2::proto::streams", &Level::DEBUG));
        assert!(t.would_enable("rustls::server", &Level::WARN));
        assert!(t.would_enable("tfplugin::server", &Level::TRACE));
        let t = targets(LevelFilter::ERROR);
        assert!(!t.would_enable("rustls::server", &Level::WARN));
    }

    /// An event inside a span carries the span's fields (its own win), denylist included.
    #[test]
    fn events_inherit_span_fields() {
        let buf = Buf::default();
        let b2 = buf.clone();
        let layer = HclogLayer::new("provider.terraform-provider-test", move || b2.clone());
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            let outer = tracing::error_span!(
                "rpc",
                tf_rpc = "ReadResource",
                tf_req_id = "r-1",
                token = "s3cr3t",
                tf_resource_type = tracing::field::Empty
            );
            outer.record("tf_resource_type", "test_widget");
            let _g = outer.enter();
            let inner = tracing::info_span!("call", tf_rpc = "inner");
            let _g2 = inner.enter();
            tracing::info!(tf_req_id = "own", "inside");
        });
        let out = String::from_utf8(buf.0.lock().map(|v| v.clone()).unwrap_or_default())
            .unwrap_or_default();
        assert!(!out.contains("s3cr3t"), "{out}");
        let v: serde_json::Value = serde_json::from_str(out.trim()).expect("json line");
        assert_eq!(v["tf_rpc"], "inner");
        assert_eq!(v["tf_req_id"], "own");
        assert_eq!(v["tf_resource_type"], "test_widget");
        assert_ne!(request_id(), request_id());
        assert_eq!(request_id().len(), 36);
    }

    #[test]
    fn timestamp_format() {
        let t = time::Date::from_calendar_date(2026, time::Month::January, 2)
            .and_then(|d| d.with_hms_micro(3, 4, 5, 123))
            .map(|dt| dt.assume_utc())
            .expect("valid date");
        assert_eq!(hclog_timestamp(t), "2026-01-02T03:04:05.000123Z");
    }

    #[test]
    fn line_format_and_denylist() {
        let buf = Buf::default();
        let b2 = buf.clone();
        let layer = HclogLayer::new("provider.terraform-provider-test", move || b2.clone());
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(id = "w-1", count = 3, token = "s3cr3t", api_token = "x", hidden = ?Sensitive("pw"), "created widget");
        });
        let out = String::from_utf8(buf.0.lock().map(|v| v.clone()).unwrap_or_default())
            .unwrap_or_default();
        assert!(
            !out.contains("s3cr3t") && !out.contains("\"x\"") && !out.contains("pw"),
            "{out}"
        );
        let v: serde_json::Value = serde_json::from_str(out.trim()).expect("json line");
        assert_eq!(v["@level"], "info");
        assert_eq!(v["@message"], "created widget");
        assert_eq!(v["@module"], "provider.terraform-provider-test");
        assert_eq!(v["id"], "w-1");
        assert_eq!(v["hidden"], "(sensitive value)");
        let ts = v["@timestamp"].as_str().unwrap_or_default();
        assert_eq!(ts.len(), "2026-01-02T03:04:05.123456Z".len(), "{ts}");
    }
}
