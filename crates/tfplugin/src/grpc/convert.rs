//! Conversions between framework types and the generated `tfplugin6` messages.

use crate::diag::{Diagnostic, Diagnostics, Severity};
use crate::proto::tfplugin6 as pb;
use crate::provider::{Parameter, Signature};
use crate::schema::{
    AttrType, Attribute, Block, IdentitySchema, NestedBlock, NestingMode, ObjectNesting, Schema,
};
use crate::value::{AttributePath, PathStep, Type, Value, json, msgpack, type_json};

// ------------------------------------------------------------ diagnostics & paths

pub(crate) fn path_to_pb(p: &AttributePath) -> pb::AttributePath {
    use pb::attribute_path::{Step, step::Selector};
    pb::AttributePath {
        steps: p
            .steps()
            .iter()
            .map(|s| Step {
                selector: Some(match s {
                    PathStep::Attribute(a) => Selector::AttributeName(a.clone()),
                    PathStep::Key(k) => Selector::ElementKeyString(k.clone()),
                    PathStep::Index(i) => Selector::ElementKeyInt(*i),
                }),
            })
            .collect(),
    }
}

pub(crate) fn diag_to_pb(d: &Diagnostic) -> pb::Diagnostic {
    pb::Diagnostic {
        severity: match d.severity {
            Severity::Error => pb::diagnostic::Severity::Error as i32,
            Severity::Warning => pb::diagnostic::Severity::Warning as i32,
        },
        summary: d.summary.clone(),
        detail: d.detail.clone(),
        attribute: d
            .attribute
            .as_ref()
            .filter(|p| !p.is_empty())
            .map(path_to_pb),
    }
}

pub(crate) fn diags_to_pb(d: &Diagnostics) -> Vec<pb::Diagnostic> {
    d.iter().map(diag_to_pb).collect()
}

// ------------------------------------------------------------ dynamic values

/// Decodes a request `DynamicValue` (msgpack, else JSON, else null). Failures become an
/// error diagnostic naming the field (`what`) and the path inside the value.
pub(crate) fn decode_dv(
    dv: Option<&pb::DynamicValue>,
    ty: &Type,
    what: &str,
) -> Result<Value, Diagnostic> {
    let Some(dv) = dv else { return Ok(Value::Null) };
    let res = if !dv.msgpack.is_empty() {
        msgpack::decode(ty, &dv.msgpack).map_err(|e| (e.path, e.message, "msgpack"))
    } else if !dv.json.is_empty() {
        json::decode(ty, &dv.json).map_err(|e| (e.path, e.message, "JSON"))
    } else {
        return Ok(Value::Null);
    };
    res.map_err(|(path, msg, enc)| {
        let at = if path.is_empty() {
            String::new()
        } else {
            format!(" at {path}")
        };
        let d = Diagnostic::error(
            format!("Invalid {what}"),
            format!("Terraform sent a {what} that could not be decoded as {enc}{at}: {msg}."),
        );
        if path.is_empty() { d } else { d.at(path) }
    })
}

/// Encodes a response value as msgpack (what Terraform reads most reliably).
pub(crate) fn encode_dv(ty: &Type, v: &Value, what: &str) -> Result<pb::DynamicValue, Diagnostic> {
    msgpack::encode(ty, v)
        .map(|msgpack| pb::DynamicValue { msgpack, json: Vec::new() })
        .map_err(|e| {
            Diagnostic::error(
                format!("Provider returned an invalid {what}"),
                format!("The {what} does not match the schema at {}: {}. This is a bug in the provider.", e.path, e.message),
            )
            .at(e.path)
        })
}

// ------------------------------------------------------------ schemas

fn kind(desc: &str) -> i32 {
    if desc.is_empty() {
        pb::StringKind::Plain as i32
    } else {
        pb::StringKind::Markdown as i32
    }
}

fn attr_to_pb(a: &Attribute) -> pb::schema::Attribute {
    let (ty, nested) = match &a.kind {
        AttrType::Type(t) => (type_json::to_bytes(t), None),
        AttrType::Nested(n) => (
            Vec::new(),
            Some(pb::schema::Object {
                attributes: n.attributes.iter().map(attr_to_pb).collect(),
                nesting: match n.nesting {
                    ObjectNesting::Single => pb::schema::object::NestingMode::Single,
                    ObjectNesting::List => pb::schema::object::NestingMode::List,
                    ObjectNesting::Set => pb::schema::object::NestingMode::Set,
                    ObjectNesting::Map => pb::schema::object::NestingMode::Map,
                } as i32,
                ..Default::default()
            }),
        ),
    };
    pb::schema::Attribute {
        name: a.name.clone(),
        r#type: ty,
        nested_type: nested,
        description: a.description.clone(),
        required: a.required,
        optional: a.optional,
        computed: a.computed,
        sensitive: a.sensitive,
        description_kind: kind(&a.description),
        deprecated: a.deprecated.is_some(),
        write_only: a.write_only,
        deprecation_message: a.deprecated.clone().unwrap_or_default(),
    }
}

fn nested_block_to_pb(nb: &NestedBlock) -> pb::schema::NestedBlock {
    use pb::schema::nested_block::NestingMode as M;
    pb::schema::NestedBlock {
        type_name: nb.type_name.clone(),
        block: Some(block_to_pb(&nb.block, 0)),
        nesting: match nb.nesting {
            NestingMode::Single => M::Single,
            NestingMode::Group => M::Group,
            NestingMode::List => M::List,
            NestingMode::Set => M::Set,
            NestingMode::Map => M::Map,
        } as i32,
        min_items: nb.min_items,
        max_items: nb.max_items,
    }
}

fn block_to_pb(b: &Block, version: i64) -> pb::schema::Block {
    pb::schema::Block {
        version,
        attributes: b.attributes.iter().map(attr_to_pb).collect(),
        block_types: b.blocks.iter().map(nested_block_to_pb).collect(),
        description: b.description.clone(),
        description_kind: kind(&b.description),
        deprecated: b.deprecated.is_some(),
        deprecation_message: b.deprecated.clone().unwrap_or_default(),
        computed: false,
    }
}

pub(crate) fn schema_to_pb(s: &Schema) -> pb::Schema {
    pb::Schema {
        version: s.version,
        block: Some(block_to_pb(&s.block, s.version)),
    }
}

pub(crate) fn identity_to_pb(s: &IdentitySchema) -> pb::ResourceIdentitySchema {
    pb::ResourceIdentitySchema {
        version: s.version,
        identity_attributes: s
            .attributes
            .iter()
            .map(|a| pb::resource_identity_schema::IdentityAttribute {
                name: a.name.clone(),
                r#type: type_json::to_bytes(&a.ty),
                required_for_import: a.required_for_import,
                optional_for_import: a.optional_for_import,
                description: a.description.clone(),
            })
            .collect(),
    }
}

fn param_to_pb(p: &Parameter) -> pb::function::Parameter {
    pb::function::Parameter {
        name: p.name.clone(),
        r#type: type_json::to_bytes(&p.ty),
        allow_null_value: p.allow_null,
        allow_unknown_values: p.allow_unknown,
        description: p.description.clone(),
        description_kind: kind(&p.description),
    }
}

pub(crate) fn function_to_pb(s: &Signature) -> pb::Function {
    pb::Function {
        parameters: s.parameters.iter().map(param_to_pb).collect(),
        variadic_parameter: s.variadic.as_ref().map(param_to_pb),
        r#return: Some(pb::function::Return {
            r#type: type_json::to_bytes(&s.return_type),
        }),
        summary: s.summary.clone(),
        description: s.description.clone(),
        description_kind: kind(&s.description),
        deprecation_message: s.deprecation.clone().unwrap_or_default(),
    }
}

pub(crate) fn timestamp(t: std::time::SystemTime) -> prost_types::Timestamp {
    let d = t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    prost_types::Timestamp {
        seconds: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        nanos: i32::try_from(d.subsec_nanos()).unwrap_or(0),
    }
}
