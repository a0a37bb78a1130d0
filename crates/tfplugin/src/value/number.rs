//! Arbitrary-precision numbers, as cty has them.
//!
//! Terraform sends numbers as msgpack ints, floats *or* decimal strings (for values
//! that fit neither), so an `i64`/`f64` model would silently lose data. We keep a
//! canonical decimal form (`digits × 10^exp`) which makes equality exact and lets
//! encoders pick the same compact wire form go-cty picks.
//!
//! Representation: an integer that fits `i64` (almost every number Terraform sends) is
//! stored inline and allocates nothing; any other finite number is a boxed canonical
//! decimal. `size_of::<Number>()` is 16 bytes, which keeps `Value` at 32 bytes.

use std::borrow::Cow;
use std::fmt;

/// Largest decimal exponent we accept; bounds memory for hostile input like `1e999999999`.
const MAX_EXP: i64 = 4096;

/// A number of any precision (or ±infinity), like cty's `big.Float` numbers; never NaN.
///
/// Always canonical: an integer in `i64` range is always the inline form, anything else
/// finite has no leading/trailing zeros in its digits, and zero is never negative, so the
/// derived `PartialEq` is numeric equality (`1.50 == 15e-1`, `-0 == 0`) and `Hash` agrees
/// with it. Finite decimal exponents are bounded by ±4096.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Number {
    repr: Repr,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum Repr {
    /// A finite integer in `i64` range (zero included): the common case, no allocation.
    Int(i64),
    /// Every other finite number, canonical (see [`Big`]).
    Big(Box<Big>),
    Inf {
        neg: bool,
    },
}

/// `±digits × 10^exp`: `digits` is non-empty ASCII decimal with no leading or trailing
/// zeros, and the value is not an integer in `i64` range (that is [`Repr::Int`]).
#[derive(Clone, PartialEq, Eq, Hash)]
struct Big {
    neg: bool,
    digits: Box<str>,
    exp: i64,
}

/// The canonical decimal parts of a finite number: `(negative, digits, exponent)`, digits
/// empty for zero.
type Parts<'a> = (bool, Cow<'a, str>, i64);

/// The text was not a decimal number (or its exponent was out of range); holds the
/// first 64 characters of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid number {0:?}")]
pub struct ParseNumberError(pub String);

/// `±digits × 10^exp` as an `i64` if it is an integer in range (`digits` canonical).
fn parts_to_i64(neg: bool, digits: &str, exp: i64) -> Option<i64> {
    if digits.is_empty() {
        return Some(0);
    }
    if exp < 0 || digits.len() as i64 + exp > 19 {
        return None;
    }
    let mut v: i128 = digits.parse().ok()?;
    for _ in 0..exp {
        v *= 10;
    }
    if neg {
        v = -v;
    }
    i64::try_from(v).ok()
}

impl Number {
    /// Zero (never negative zero).
    pub fn zero() -> Self {
        Number { repr: Repr::Int(0) }
    }

    /// Positive (`negative == false`) or negative infinity.
    pub fn infinity(negative: bool) -> Self {
        Number {
            repr: Repr::Inf { neg: negative },
        }
    }

    fn finite(neg: bool, digits: &str, exp: i64) -> Self {
        // canonicalise: strip leading zeros, move trailing zeros into exp
        let d = digits.trim_start_matches('0');
        let trimmed = d.trim_end_matches('0');
        let exp = exp + (d.len() - trimmed.len()) as i64;
        if let Some(i) = parts_to_i64(neg, trimmed, exp) {
            return Number { repr: Repr::Int(i) };
        }
        Number {
            repr: Repr::Big(Box::new(Big {
                neg,
                digits: trimmed.into(),
                exp,
            })),
        }
    }

    /// `(negative, digits, exponent)` of a finite number (digits empty for zero); `None`
    /// for ±infinity.
    fn parts(&self) -> Option<Parts<'_>> {
        match &self.repr {
            Repr::Int(0) => Some((false, Cow::Borrowed(""), 0)),
            Repr::Int(i) => {
                let s = i.unsigned_abs().to_string();
                let t = s.trim_end_matches('0');
                let exp = (s.len() - t.len()) as i64;
                Some((*i < 0, Cow::Owned(t.to_string()), exp))
            }
            Repr::Big(b) => Some((b.neg, Cow::Borrowed(&b.digits), b.exp)),
            Repr::Inf { .. } => None,
        }
    }

    /// Parses decimal text: `-12`, `3.25`, `.5`, `1.`, `1e300`, `1.5E-7`, `+4`, `Infinity`,
    /// `-Inf` (case-insensitive). Surrounding whitespace is ignored. Exact: no rounding.
    ///
    /// # Errors
    /// Anything else (empty, hex, `NaN`, `1_000`, a bare `.` or `e5`), an exponent of more
    /// than 12 characters, or a nonzero value whose canonical exponent is beyond ±4096 (a
    /// bound against hostile input such as `1e999999999`).
    pub fn parse(text: &str) -> Result<Self, ParseNumberError> {
        let err = || ParseNumberError(text.chars().take(64).collect());
        let s = text.trim();
        let (neg, rest) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        if rest.eq_ignore_ascii_case("inf") || rest.eq_ignore_ascii_case("infinity") {
            return Ok(Self::infinity(neg));
        }
        let (mantissa, exp_part) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        let (int_part, frac_part) = match mantissa.find('.') {
            Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
            None => (mantissa, ""),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(err());
        }
        if !int_part.bytes().all(|b| b.is_ascii_digit())
            || !frac_part.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(err());
        }
        let mut exp: i64 = match exp_part {
            Some(e) => {
                let e = e.strip_prefix('+').unwrap_or(e);
                if e.is_empty() || e.len() > 12 {
                    return Err(err());
                }
                e.parse::<i64>().map_err(|_| err())?
            }
            None => 0,
        };
        exp -= frac_part.len() as i64;
        let digits = format!("{int_part}{frac_part}");
        let n = Self::finite(neg, &digits, exp);
        if let Repr::Big(b) = &n.repr
            && (b.exp > MAX_EXP || b.exp < -MAX_EXP)
        {
            return Err(err());
        }
        Ok(n)
    }

    /// The shortest decimal that round-trips to `f` (so `0.1` gives `0.1`, not its binary
    /// expansion); ±infinity is kept. NaN has no cty equivalent and gives `None`.
    pub fn from_f64(f: f64) -> Option<Self> {
        if f.is_nan() {
            return None;
        }
        if f.is_infinite() {
            return Some(Self::infinity(f < 0.0));
        }
        // `{:e}` is Rust's shortest round-tripping form, so this is exact for the f64.
        Self::parse(&format!("{f:e}")).ok()
    }

    /// Heap bytes owned: none for an `i64` integer or infinity, the boxed digits otherwise.
    pub(super) fn heap_size(&self) -> usize {
        match &self.repr {
            Repr::Big(b) => std::mem::size_of::<Big>() + b.digits.len(),
            Repr::Int(_) | Repr::Inf { .. } => 0,
        }
    }

    /// True for ±infinity; false for every finite number.
    pub fn is_infinite(&self) -> bool {
        matches!(self.repr, Repr::Inf { .. })
    }

    /// True when the value is finite with no fractional part (zero included, infinity not),
    /// whatever its size.
    pub fn is_integer(&self) -> bool {
        match &self.repr {
            Repr::Int(_) => true,
            Repr::Big(b) => b.exp >= 0,
            Repr::Inf { .. } => false,
        }
    }

    /// The value as `i64`; `None` if it is fractional, infinite or outside `i64` range
    /// (never truncates or saturates).
    pub fn as_i64(&self) -> Option<i64> {
        match &self.repr {
            Repr::Int(i) => Some(*i),
            // canonical: a Big is never an integer in i64 range
            _ => None,
        }
    }

    /// The nearest `f64`: may round, a finite magnitude beyond `f64` range becomes
    /// ±infinity and one below it becomes 0. Infinity maps to infinity.
    pub fn as_f64(&self) -> f64 {
        match &self.repr {
            Repr::Inf { neg } => {
                if *neg {
                    f64::NEG_INFINITY
                } else {
                    f64::INFINITY
                }
            }
            // `as` rounds to nearest, ties to even: the same as parsing the decimal
            Repr::Int(i) => *i as f64,
            Repr::Big(b) => {
                let s = format!("{}{}e{}", if b.neg { "-" } else { "" }, b.digits, b.exp);
                s.parse().unwrap_or(0.0)
            }
        }
    }

    /// The `f64` if it represents this number exactly (go-cty's `big.Exact` accuracy check,
    /// which decides whether msgpack encodes a float); `None` otherwise and for ±infinity.
    pub fn as_exact_f64(&self) -> Option<f64> {
        let f = self.as_f64();
        if f.is_finite() && Self::from_f64(f).as_ref() == Some(self) {
            Some(f)
        } else {
            None
        }
    }

    /// Total numeric order: `-Infinity` < every finite number < `Infinity`, and equal
    /// exactly when `==` holds (so `1.5` and `15e-1` are `Equal`).
    pub fn cmp_num(&self, other: &Number) -> std::cmp::Ordering {
        use std::cmp::Ordering::*;
        if let (Repr::Int(a), Repr::Int(b)) = (&self.repr, &other.repr) {
            return a.cmp(b);
        }
        let sign = |n: &Number| -> i8 {
            match &n.repr {
                Repr::Inf { neg: true } => -1,
                Repr::Inf { neg: false } => 1,
                Repr::Big(b) => {
                    if b.neg {
                        -1
                    } else {
                        1
                    }
                }
                Repr::Int(i) => i.signum() as i8,
            }
        };
        let (sa, sb) = (sign(self), sign(other));
        if sa != sb {
            return sa.cmp(&sb);
        }
        let mag = match (self.parts(), other.parts()) {
            (None, None) => Equal,
            (None, Some(_)) => Greater,
            (Some(_), None) => Less,
            (Some((_, da, ea)), Some((_, db, eb))) => {
                // compare magnitude: order of magnitude first, then digit strings
                let ma = da.len() as i64 + ea;
                let mb = db.len() as i64 + eb;
                if ma != mb {
                    ma.cmp(&mb)
                } else {
                    let n = da.len().max(db.len());
                    let pa = format!("{da:0<n$}");
                    let pb = format!("{db:0<n$}");
                    pa.cmp(&pb)
                }
            }
        };
        if sa < 0 { mag.reverse() } else { mag }
    }
}

impl fmt::Display for Number {
    /// Plain decimal text with no exponent (go's `big.Float.Text('f', -1)`), the cty
    /// number→string conversion: `1e3` prints `1000`; infinity prints `Infinity` /
    /// `-Infinity`. Exact, so large exponents print every zero.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Inf { neg } => write!(f, "{}Infinity", if *neg { "-" } else { "" }),
            Repr::Int(i) => write!(f, "{i}"),
            Repr::Big(b) => {
                let Big { neg, digits, exp } = &**b;
                if *neg {
                    write!(f, "-")?;
                }
                if *exp >= 0 {
                    write!(f, "{digits}")?;
                    for _ in 0..*exp {
                        write!(f, "0")?;
                    }
                    Ok(())
                } else {
                    let point = digits.len() as i64 + exp;
                    if point > 0 {
                        let (a, b) = digits.split_at(point as usize);
                        write!(f, "{a}.{b}")
                    } else {
                        write!(f, "0.")?;
                        for _ in 0..(-point) {
                            write!(f, "0")?;
                        }
                        write!(f, "{digits}")
                    }
                }
            }
        }
    }
}

impl fmt::Debug for Number {
    /// `Number(<decimal text>)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({self})")
    }
}

impl From<i64> for Number {
    fn from(v: i64) -> Self {
        Number { repr: Repr::Int(v) }
    }
}

impl From<u64> for Number {
    fn from(v: u64) -> Self {
        match i64::try_from(v) {
            Ok(i) => Self::from(i),
            Err(_) => Self::finite(false, &v.to_string(), 0),
        }
    }
}

impl From<i32> for Number {
    fn from(v: i32) -> Self {
        Self::from(i64::from(v))
    }
}

impl std::str::FromStr for Number {
    type Err = ParseNumberError;
    /// Same as [`Number::parse`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_equality() {
        assert_eq!(Number::parse("1.50").ok(), Number::parse("15e-1").ok());
        assert_eq!(Number::parse("-0").ok(), Some(Number::zero()));
        assert_eq!(Number::parse("1000").ok(), Some(Number::from(1000i64)));
        assert_eq!(Number::from_f64(0.1), Number::parse("0.1").ok());
    }

    #[test]
    fn display_and_conversions() {
        let n = Number::parse("123456789012345678901234567890").expect("parse");
        assert_eq!(n.to_string(), "123456789012345678901234567890");
        assert_eq!(n.as_i64(), None);
        assert_eq!(Number::parse("0.00125").expect("p").to_string(), "0.00125");
        assert_eq!(Number::from(i64::MIN).as_i64(), Some(i64::MIN));
        assert_eq!(Number::parse("2.5").expect("p").as_exact_f64(), Some(2.5));
        assert_eq!(Number::parse("0.1").expect("p").as_exact_f64(), Some(0.1));
        assert!(Number::parse("1e99999").is_err());
        assert!(Number::parse("abc").is_err());
        assert!(Number::parse(".").is_err());
    }

    #[test]
    fn ordering() {
        use std::cmp::Ordering::*;
        let p = |s| Number::parse(s).expect("p");
        assert_eq!(p("10").cmp_num(&p("9.99")), Greater);
        assert_eq!(p("-10").cmp_num(&p("-9")), Less);
        assert_eq!(p("0").cmp_num(&p("-0.1")), Greater);
        assert_eq!(p("1.5").cmp_num(&p("15e-1")), Equal);
        assert_eq!(Number::infinity(false).cmp_num(&p("1e300")), Greater);
    }
}
