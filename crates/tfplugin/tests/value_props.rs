//! Property tests: arbitrary types with conforming values (nulls, unknowns with
//! refinements, big and fractional numbers, nested collections, dynamic) survive
//! msgpack and JSON round trips; type JSON round-trips.

use proptest::prelude::*;
use std::collections::BTreeMap;
use tfplugin::value::{Number, ObjectType, Refinements, Type, Value, json, msgpack, type_json};

fn name() -> impl Strategy<Value = String> {
    "[a-z_][a-z0-9_]{0,6}"
}

fn arb_type() -> impl Strategy<Value = Type> {
    let leaf = prop_oneof![
        Just(Type::Bool),
        Just(Type::Number),
        Just(Type::String),
        Just(Type::Dynamic)
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(Type::list),
            inner.clone().prop_map(Type::set),
            inner.clone().prop_map(Type::map),
            prop::collection::vec(inner.clone(), 0..4).prop_map(Type::Tuple),
            prop::collection::btree_map(name(), inner, 0..4).prop_map(|m| Type::Object(
                ObjectType {
                    attrs: m,
                    optional: Default::default()
                }
            )),
        ]
    })
}

fn arb_number() -> impl Strategy<Value = Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::from),
        any::<u64>().prop_map(Number::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| Number::from_f64(f).unwrap_or_else(Number::zero)),
        ("-?[1-9][0-9]{18,40}", "[0-9]{0,20}").prop_map(|(i, f)| {
            Number::parse(&if f.is_empty() { i } else { format!("{i}.{f}") })
                .unwrap_or_else(|_| Number::zero())
        }),
    ]
}

fn refinements(ty: &Type) -> BoxedStrategy<Refinements> {
    let base = any::<bool>();
    match ty {
        Type::Dynamic => Just(Refinements::default()).boxed(),
        Type::String => (base, prop::option::of("[a-z]{1,5}"))
            .prop_map(|(nn, p)| Refinements {
                not_null: nn,
                string_prefix: p,
                ..Default::default()
            })
            .boxed(),
        Type::Number => (base, prop::option::of((arb_number(), any::<bool>())))
            .prop_map(|(nn, lo)| Refinements {
                not_null: nn,
                number_lower: lo,
                ..Default::default()
            })
            .boxed(),
        Type::List(_) | Type::Set(_) | Type::Map(_) => (
            base,
            prop::option::of(0u64..5),
            prop::option::of(5u64..70000),
        )
            .prop_map(|(nn, l, u)| Refinements {
                not_null: nn,
                length_lower: l,
                length_upper: u,
                ..Default::default()
            })
            .boxed(),
        _ => base
            .prop_map(|nn| Refinements {
                not_null: nn,
                ..Default::default()
            })
            .boxed(),
    }
}

/// A value conforming to `ty`. `in_dynamic`: inside a dynamic slot, where the wire type
/// is inferred from the value, so unknowns there carry no refinements.
fn arb_value(ty: &Type, unknowns: bool, in_dynamic: bool) -> BoxedStrategy<Value> {
    let known = known_value(ty, unknowns, in_dynamic);
    let mut opts: Vec<(u32, BoxedStrategy<Value>)> =
        vec![(6, known), (1, Just(Value::Null).boxed())];
    if unknowns {
        let r = if in_dynamic {
            Just(Refinements::default()).boxed()
        } else {
            refinements(ty)
        };
        opts.push((1, r.prop_map(Value::refined_unknown).boxed()));
    }
    prop::strategy::Union::new_weighted(opts).boxed()
}

fn known_value(ty: &Type, u: bool, d: bool) -> BoxedStrategy<Value> {
    match ty {
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::Number => arb_number().prop_map(Value::Number).boxed(),
        Type::String => ".{0,12}".prop_map(Value::String).boxed(),
        Type::Dynamic => arb_type()
            .prop_filter("concrete", |t| !t.has_dynamic())
            .prop_flat_map(move |t| known_value(&t, u, true))
            .boxed(),
        Type::List(e) => prop::collection::vec(arb_value(e, u, d), 0..4)
            .prop_map(Value::List)
            .boxed(),
        Type::Set(e) => prop::collection::vec(arb_value(e, u, d), 0..4)
            .prop_map(Value::Set)
            .boxed(),
        Type::Map(e) => prop::collection::btree_map(name(), arb_value(e, u, d), 0..4)
            .prop_map(Value::Map)
            .boxed(),
        Type::Tuple(ts) => ts
            .iter()
            .map(|t| arb_value(t, u, d))
            .collect::<Vec<_>>()
            .prop_map(Value::Tuple)
            .boxed(),
        Type::Object(o) => {
            let names: Vec<String> = o.attrs.keys().cloned().collect();
            o.attrs
                .values()
                .map(|t| arb_value(t, u, d))
                .collect::<Vec<_>>()
                .prop_map(move |vals| {
                    Value::Object(names.iter().cloned().zip(vals).collect::<BTreeMap<_, _>>())
                })
                .boxed()
        }
    }
}

fn typed_value(unknowns: bool) -> impl Strategy<Value = (Type, Value)> {
    arb_type().prop_flat_map(move |t| {
        let v = arb_value(&t, unknowns, false);
        (Just(t), v)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn msgpack_round_trip((ty, v) in typed_value(true)) {
        let bytes = msgpack::encode(&ty, &v).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back = msgpack::decode(&ty, &bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back, v);
    }

    #[test]
    fn json_round_trip((ty, v) in typed_value(false)) {
        let bytes = json::encode(&ty, &v).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back = json::decode(&ty, &bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back, v);
    }

    #[test]
    fn type_json_round_trip(ty in arb_type()) {
        prop_assert_eq!(type_json::from_bytes(&type_json::to_bytes(&ty)).ok(), Some(ty));
    }

    /// Arbitrary bytes never panic the decoder.
    #[test]
    fn msgpack_decode_never_panics(ty in arb_type(), bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = msgpack::decode(&ty, &bytes);
    }
}
