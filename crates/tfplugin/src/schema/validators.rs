//! Attribute validators. They see only known, non-null values; unknown config (values
//! from other resources) is validated again once known.

use crate::diag::Diagnostics;
use crate::value::{AttributePath, Number, Type, Value};
use std::fmt;
use std::sync::Arc;

/// Checks one attribute value at validate time and reports problems at `path`, only by adding
/// diagnostics (an error diagnostic fails `terraform validate`/`plan`).
pub trait Validator: Send + Sync {
    /// Human description ("string length between 1 and 63"); used in schema-check errors.
    fn description(&self) -> String;
    /// The attribute types this validator applies to. [`Schema::check`](super::Schema::check)
    /// rejects a validator attached to an attribute whose type it does not accept.
    fn accepts(&self) -> Accepts;
    /// Adds diagnostics for an invalid `value` at `path`. Called only with wholly known,
    /// non-null values of an attribute whose type [`Self::accepts`] accepts; adding nothing
    /// means valid. Diagnostics should be attached to `path`.
    fn validate(&self, path: &AttributePath, value: &Value, diags: &mut Diagnostics);
}

/// The attribute types a [`Validator`] applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepts {
    /// Every type, `dynamic` included (the validator must inspect values itself).
    Any,
    /// Exactly `string` attributes.
    String,
    /// Exactly `number` attributes.
    Number,
    /// Exactly `bool` attributes.
    Bool,
    /// `list`, `set` and `map` attributes of any element type (nested lists, sets and maps too).
    Collection,
    /// Attributes of exactly this type (closures attached with `Attribute::validate_with` are typed
    /// by the attribute they are attached to).
    Type(Type),
}

impl Accepts {
    /// True when a validator accepting `self` may be attached to an attribute of type `ty`;
    /// only `Any` accepts `dynamic`, and nested-attribute types must match exactly.
    pub fn accepts(&self, ty: &Type) -> bool {
        match self {
            Accepts::Any => true,
            Accepts::String => *ty == Type::String,
            Accepts::Number => *ty == Type::Number,
            Accepts::Bool => *ty == Type::Bool,
            Accepts::Collection => matches!(ty, Type::List(_) | Type::Set(_) | Type::Map(_)),
            Accepts::Type(t) => t == ty,
        }
    }
}

impl fmt::Display for Accepts {
    /// `"string"`, `"list, set or map"`, `"any type"` or the type's friendly name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Accepts::Any => f.write_str("any type"),
            Accepts::String => f.write_str("string"),
            Accepts::Number => f.write_str("number"),
            Accepts::Bool => f.write_str("bool"),
            Accepts::Collection => f.write_str("list, set or map"),
            Accepts::Type(t) => f.write_str(&t.friendly_name()),
        }
    }
}

/// A validator from a closure, applying to the attribute types given by its [`Accepts`].
pub struct FnValidator {
    description: String,
    accepts: Accepts,
    #[allow(clippy::type_complexity)]
    f: Arc<dyn Fn(&AttributePath, &Value, &mut Diagnostics) + Send + Sync>,
}

impl FnValidator {
    /// Wraps `f`, which validates values of the types `accepts` accepts (the contract of
    /// [`Validator::validate`] applies to it).
    pub fn new<F>(accepts: Accepts, description: impl Into<String>, f: F) -> Self
    where
        F: Fn(&AttributePath, &Value, &mut Diagnostics) + Send + Sync + 'static,
    {
        FnValidator {
            description: description.into(),
            accepts,
            f: Arc::new(f),
        }
    }
}

impl Validator for FnValidator {
    fn description(&self) -> String {
        self.description.clone()
    }
    fn accepts(&self) -> Accepts {
        self.accepts.clone()
    }
    fn validate(&self, path: &AttributePath, value: &Value, diags: &mut Diagnostics) {
        (self.f)(path, value, diags);
    }
}

fn invalid(diags: &mut Diagnostics, path: &AttributePath, detail: String) {
    diags.attribute_error(path.clone(), "Invalid attribute value", detail);
}

/// String length in Unicode scalar values (not bytes, not grapheme clusters) within
/// `min..=max`. Accepts `string`.
pub fn string_length(min: usize, max: usize) -> FnValidator {
    FnValidator::new(
        Accepts::String,
        format!("string length between {min} and {max}"),
        move |p, v, d| {
            if let Some(s) = v.as_str() {
                let n = s.chars().count();
                if n < min || n > max {
                    invalid(
                        d,
                        p,
                        format!(
                            "Attribute {p} string length must be between {min} and {max}, got: {n}."
                        ),
                    );
                }
            }
        },
    )
}

/// String equal (case-sensitively) to one of `allowed`. Accepts `string`.
pub fn one_of(allowed: &[&str]) -> FnValidator {
    let allowed: Vec<String> = allowed.iter().map(|s| (*s).to_string()).collect();
    FnValidator::new(
        Accepts::String,
        format!("one of {allowed:?}"),
        move |p, v, d| {
            if let Some(s) = v.as_str()
                && !allowed.iter().any(|a| a == s)
            {
                invalid(
                    d,
                    p,
                    format!("Attribute {p} value must be one of: {allowed:?}, got: {s:?}"),
                );
            }
        },
    )
}

/// String made only of characters for which `pred` holds, described by `what`
/// (e.g. "lowercase letters, digits and hyphens"); a light alternative to regexes. The error
/// names the first offending character. The empty string passes. Accepts `string`.
pub fn string_chars(what: &str, pred: fn(char) -> bool) -> FnValidator {
    let what = what.to_string();
    FnValidator::new(Accepts::String, format!("only {what}"), move |p, v, d| {
        if let Some(s) = v.as_str()
            && let Some(c) = s.chars().find(|c| !pred(*c))
        {
            invalid(
                d,
                p,
                format!("Attribute {p} may only contain {what}; found {c:?}."),
            );
        }
    })
}

/// Whole number of any size (no range check; infinity fails). Accepts `number`.
pub fn integer() -> FnValidator {
    FnValidator::new(Accepts::Number, "a whole number", |p, v, d| {
        if let Some(n) = v.as_number()
            && !n.is_integer()
        {
            invalid(
                d,
                p,
                format!("Attribute {p} must be a whole number, got: {n}."),
            );
        }
    })
}

/// Whole number within `min..=max` (inclusive); a fractional value fails even inside the
/// range. Accepts `number`.
pub fn int_between(min: i64, max: i64) -> FnValidator {
    FnValidator::new(
        Accepts::Number,
        format!("whole number between {min} and {max}"),
        move |p, v, d| {
            if let Some(n) = v.as_number() {
                let lo = Number::from(min);
                let hi = Number::from(max);
                if !n.is_integer() || n.cmp_num(&lo).is_lt() || n.cmp_num(&hi).is_gt() {
                    invalid(
                        d,
                        p,
                        format!("Attribute {p} value must be between {min} and {max}, got: {n}"),
                    );
                }
            }
        },
    )
}

/// Element count within `min..=max` (inclusive). Accepts lists, sets and maps.
pub fn size_between(min: usize, max: usize) -> FnValidator {
    FnValidator::new(
        Accepts::Collection,
        format!("between {min} and {max} elements"),
        move |p, v, d| {
            if let Some(n) = v.collection_len()
                && (n < min || n > max)
            {
                invalid(
                    d,
                    p,
                    format!(
                        "Attribute {p} must contain between {min} and {max} elements, got: {n}"
                    ),
                );
            }
        },
    )
}

/// Duration string like `"30m"` or `"1h30m"`: exactly what
/// [`super::timeouts::parse_duration`] accepts. Accepts `string`.
pub fn duration() -> FnValidator {
    FnValidator::new(
        Accepts::String,
        "a duration like \"30m\" or \"1h30m\"",
        |p, v, d| {
            if let Some(s) = v.as_str()
                && let Err(e) = super::duration::parse_duration(s)
            {
                invalid(d, p, format!("Attribute {p}: {e}"));
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validators_name_the_path() {
        let p = AttributePath::attr("engine");
        let mut d = Diagnostics::new();
        one_of(&["postgres", "mysql"]).validate(&p, &Value::from("oracle"), &mut d);
        assert_eq!(d.0[0].attribute, Some(p.clone()));
        let mut d = Diagnostics::new();
        int_between(10, 100).validate(&p, &Value::int(5), &mut d);
        string_length(1, 3).validate(&p, &Value::from("abcd"), &mut d);
        int_between(10, 100).validate(&p, &Value::int(50), &mut d);
        assert_eq!(d.len(), 2);
    }
}
