//! `provider::clouddb::parse_tier(name)`: the size of a machine tier, `{vcpus, memory_gb,
//! max_storage_gb}`, from the catalogue built into the provider.
//!
//! Functions cannot call the API (Terraform calls them before the provider is configured, and
//! without credentials during `validate`), so the catalogue is a copy of the API's `GET /v1/tiers`;
//! `tests/client_server.rs` compares the two tier by tier against a running server.

use async_trait::async_trait;
use tfplugin::provider::{Context, Function, FunctionError, Parameter, Signature};
use tfplugin::value::{Type, Value};

use super::arg_error;

/// One machine tier, as `GET /v1/tiers` describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TierSpec {
    pub name: &'static str,
    pub vcpus: i64,
    pub memory_gb: i64,
    pub max_storage_gb: i64,
}

/// The tiers the API offers, smallest first (the order of `GET /v1/tiers`).
pub const TIER_CATALOGUE: &[TierSpec] = &[
    TierSpec {
        name: "db-micro",
        vcpus: 1,
        memory_gb: 1,
        max_storage_gb: 100,
    },
    TierSpec {
        name: "db-small",
        vcpus: 2,
        memory_gb: 4,
        max_storage_gb: 500,
    },
    TierSpec {
        name: "db-standard-2",
        vcpus: 2,
        memory_gb: 8,
        max_storage_gb: 2000,
    },
    TierSpec {
        name: "db-standard-4",
        vcpus: 4,
        memory_gb: 16,
        max_storage_gb: 4000,
    },
    TierSpec {
        name: "db-highmem-8",
        vcpus: 8,
        memory_gb: 64,
        max_storage_gb: 16000,
    },
];

/// The tier called `name`, if the catalogue has it.
pub fn find(name: &str) -> Option<&'static TierSpec> {
    TIER_CATALOGUE.iter().find(|t| t.name == name)
}

/// The object type the function returns.
pub fn return_type() -> Type {
    Type::object([
        ("vcpus", Type::Number),
        ("memory_gb", Type::Number),
        ("max_storage_gb", Type::Number),
    ])
}

#[derive(Debug, Default)]
pub struct ParseTier;

#[async_trait]
impl Function for ParseTier {
    fn name(&self) -> &'static str {
        "parse_tier"
    }

    fn signature(&self) -> Signature {
        let mut name = Parameter::new("name", Type::String);
        name.description = format!("A tier name: {}.", known_tiers("`"));
        Signature {
            parameters: vec![name],
            variadic: None,
            return_type: return_type(),
            summary: "Describes a machine tier.".into(),
            description: "Returns the size of a CloudDB machine tier as an object with `vcpus`, \
                `memory_gb` and `max_storage_gb`, from the tier catalogue built into the provider \
                (the API's `GET /v1/tiers`). An unknown tier name is an error that lists the known ones."
                .into(),
            deprecation: None,
        }
    }

    async fn call(&self, _ctx: &Context, args: Vec<Value>) -> Result<Value, FunctionError> {
        let name = args
            .first()
            .and_then(Value::as_str)
            .ok_or_else(|| arg_error(0, "must be a string"))?;
        let tier = find(name).ok_or_else(|| {
            arg_error(
                0,
                format!("unknown tier {name:?}; known tiers: {}", known_tiers("")),
            )
        })?;
        Ok(Value::object([
            ("vcpus", Value::int(tier.vcpus)),
            ("memory_gb", Value::int(tier.memory_gb)),
            ("max_storage_gb", Value::int(tier.max_storage_gb)),
        ]))
    }
}

/// The tier names, comma-separated, each between `quote`s.
fn known_tiers(quote: &str) -> String {
    TIER_CATALOGUE
        .iter()
        .map(|t| format!("{quote}{}{quote}", t.name))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str) -> Result<Value, FunctionError> {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(ParseTier.call(&Context::background(), vec![Value::string(name)]))
    }

    #[test]
    fn known_tiers_parse() {
        let v = call("db-standard-4").expect("known tier");
        let want = Value::object([
            ("vcpus", Value::int(4)),
            ("memory_gb", Value::int(16)),
            ("max_storage_gb", Value::int(4000)),
        ]);
        assert_eq!(v, want);
        assert!(v.conforms(&return_type()).is_ok());
    }

    #[test]
    fn an_unknown_tier_names_argument_0_and_lists_the_known_ones() {
        let e = call("db-huge").expect_err("unknown tier");
        assert_eq!(e.argument, Some(0));
        assert!(e.text.contains("\"db-huge\""), "{}", e.text);
        for t in TIER_CATALOGUE {
            assert!(
                e.text.contains(t.name),
                "{} missing from {}",
                t.name,
                e.text
            );
        }
        assert!(call("DB-SMALL").is_err(), "names are exact");
    }

    /// The instance resource validates `tier` against its own list; both must name the same tiers.
    #[test]
    fn the_catalogue_names_the_tiers_the_instance_resource_accepts() {
        let names: Vec<&str> = TIER_CATALOGUE.iter().map(|t| t.name).collect();
        assert_eq!(names, crate::resources::instance::TIERS);
    }
}
