//! msgpack `DynamicValue` codec, driven by the schema type (go-cty's `msgpack` package).
//!
//! Hand-rolled on purpose: we need exact control over the forms Terraform emits and
//! accepts (unknowns as ext 0 / refined ext 12, numbers as int/float/string, dynamic
//! values as `[type JSON bin, value]`), and every length read from the wire is checked
//! against the remaining input, so hostile bytes produce an error, never a panic or a
//! huge allocation.

use super::{AttributePath, Number, PathRef, Refinements, Type, Value, type_json};
use std::collections::BTreeMap;

/// msgpack ext type of a refined unknown.
const EXT_REFINED: i8 = 12;
/// Depth limit for nested values (bounds recursion on hostile input).
const MAX_DEPTH: usize = 128;

/// msgpack bytes could not be decoded as the requested type; `path` says where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("msgpack value at {path}: {message}")]
pub struct DecodeError {
    /// Where the bad data was (the enclosing set for set elements; root for trailing bytes).
    pub path: AttributePath,
    /// What was wrong; names wire kinds and types, never the data.
    pub message: String,
}

/// A value does not fit the type it is being encoded with (a provider bug, not bad input).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot encode value at {path}: {message}")]
pub struct EncodeError {
    /// Where the offending value is (the enclosing set for set elements).
    pub path: AttributePath,
    /// What was wrong; names kinds and types, never the data.
    pub message: String,
}

// ---------------------------------------------------------------- encoding

/// Encodes `v` as `ty` in the forms go-cty's `msgpack.Marshal` produces.
///
/// Null is nil at any type. Unknown is ext 0 (unrefined, and always under `dynamic`) or
/// ext 12 with its refinements. Numbers are the smallest int when they fit `i64`, a float64
/// when exact, else a decimal string. Objects are written with every attribute of the type in
/// sorted order, absent ones as nil. A value in a `dynamic` slot is `[type JSON bin, value]`
/// with its type from [`Value::infer_type`]. Sets are written in stored order.
///
/// # Errors
/// A value whose kind does not match `ty` (including list vs tuple, map vs object), a tuple of
/// the wrong length, or an object attribute not in the type.
pub fn encode(ty: &Type, v: &Value) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(64);
    enc(&mut out, ty, v, &PathRef::Root)?;
    Ok(out)
}

fn enc(out: &mut Vec<u8>, ty: &Type, v: &Value, path: &PathRef<'_>) -> Result<(), EncodeError> {
    let bad = |m: String| EncodeError {
        path: path.to_path(),
        message: m,
    };
    match (ty, v) {
        (_, Value::Null) => out.push(0xc0),
        (Type::Dynamic, Value::Unknown(_)) => write_ext(out, 0, &[0]),
        (_, Value::Unknown(r)) => write_unknown(out, r),
        (Type::Dynamic, v) => {
            let t = v.infer_type();
            write_array_len(out, 2);
            write_bin(out, &type_json::to_bytes(&t));
            enc(out, &t, v, path)?;
        }
        (Type::Bool, Value::Bool(b)) => out.push(if *b { 0xc3 } else { 0xc2 }),
        (Type::Number, Value::Number(n)) => write_number(out, n),
        (Type::String, Value::String(s)) => write_str(out, s),
        (Type::List(e), Value::List(items)) => {
            write_array_len(out, items.len());
            for (i, it) in items.iter().enumerate() {
                enc(out, e, it, &path.index(i))?;
            }
        }
        (Type::Set(e), Value::Set(items)) => {
            write_array_len(out, items.len());
            for it in items {
                enc(out, e, it, path)?;
            }
        }
        (Type::Tuple(ts), Value::Tuple(items)) => {
            if ts.len() != items.len() {
                return Err(bad(format!(
                    "tuple needs {} elements, has {}",
                    ts.len(),
                    items.len()
                )));
            }
            write_array_len(out, items.len());
            for (i, (t, it)) in ts.iter().zip(items).enumerate() {
                enc(out, t, it, &path.index(i))?;
            }
        }
        (Type::Map(e), Value::Map(m)) => {
            write_map_len(out, m.len());
            for (k, it) in m {
                write_str(out, k);
                enc(out, e, it, &path.key(k))?;
            }
        }
        (Type::Object(o), Value::Object(m)) => {
            // Every attribute of the type, sorted, nulls included: Terraform rejects fewer.
            write_map_len(out, o.attrs.len());
            for pair in super::join::join(&o.attrs, m.iter()) {
                let (k, t, v) = match pair {
                    super::join::Pair::Both(k, t, v) => (k, t, v),
                    super::join::Pair::TypeOnly(k, t) => (k, t, &Value::Null),
                    super::join::Pair::ValueOnly(k, _) => {
                        return Err(EncodeError {
                            path: path.attr(k).to_path(),
                            message: "attribute is not in the schema".into(),
                        });
                    }
                };
                write_str(out, k);
                enc(out, t, v, &path.attr(k))?;
            }
        }
        (t, v) => {
            return Err(bad(format!(
                "expected {}, got {}",
                t.friendly_name(),
                v.kind()
            )));
        }
    }
    Ok(())
}

fn write_unknown(out: &mut Vec<u8>, r: &Refinements) {
    if r.is_empty() {
        return write_ext(out, 0, &[0]);
    }
    let mut p = Vec::new();
    let n = usize::from(r.not_null)
        + usize::from(r.string_prefix.is_some())
        + usize::from(r.number_lower.is_some())
        + usize::from(r.number_upper.is_some())
        + usize::from(r.length_lower.is_some())
        + usize::from(r.length_upper.is_some());
    write_map_len(&mut p, n);
    if r.not_null {
        p.extend_from_slice(&[0x01, 0xc2]);
    }
    if let Some(s) = &r.string_prefix {
        p.push(0x02);
        write_str(&mut p, s);
    }
    for (key, b) in [(3u8, &r.number_lower), (4u8, &r.number_upper)] {
        if let Some((n, inc)) = b {
            p.push(key);
            write_array_len(&mut p, 2);
            write_number(&mut p, n);
            p.push(if *inc { 0xc3 } else { 0xc2 });
        }
    }
    for (key, l) in [(5u8, r.length_lower), (6u8, r.length_upper)] {
        if let Some(l) = l {
            p.push(key);
            write_uint(&mut p, l);
        }
    }
    write_ext(out, EXT_REFINED, &p);
}

fn write_number(out: &mut Vec<u8>, n: &Number) {
    if let Some(i) = n.as_i64() {
        write_int(out, i);
    } else if n.is_infinite() {
        write_f64(out, n.as_f64());
    } else if let Some(f) = n.as_exact_f64() {
        write_f64(out, f);
    } else {
        write_str(out, &n.to_string());
    }
}

fn write_f64(out: &mut Vec<u8>, f: f64) {
    out.push(0xcb);
    out.extend_from_slice(&f.to_be_bytes());
}

fn write_uint(out: &mut Vec<u8>, u: u64) {
    if u < 128 {
        out.push(u as u8);
    } else if u <= u64::from(u8::MAX) {
        out.extend_from_slice(&[0xcc, u as u8]);
    } else if u <= u64::from(u16::MAX) {
        out.push(0xcd);
        out.extend_from_slice(&(u as u16).to_be_bytes());
    } else if u <= u64::from(u32::MAX) {
        out.push(0xce);
        out.extend_from_slice(&(u as u32).to_be_bytes());
    } else {
        out.push(0xcf);
        out.extend_from_slice(&u.to_be_bytes());
    }
}

fn write_int(out: &mut Vec<u8>, i: i64) {
    if i >= 0 {
        return write_uint(out, i as u64);
    }
    if i >= -32 {
        out.push(i as i8 as u8);
    } else if i >= i64::from(i8::MIN) {
        out.extend_from_slice(&[0xd0, i as i8 as u8]);
    } else if i >= i64::from(i16::MIN) {
        out.push(0xd1);
        out.extend_from_slice(&(i as i16).to_be_bytes());
    } else if i >= i64::from(i32::MIN) {
        out.push(0xd2);
        out.extend_from_slice(&(i as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&i.to_be_bytes());
    }
}

fn write_len(
    out: &mut Vec<u8>,
    len: usize,
    fix: Option<(u8, usize)>,
    m8: Option<u8>,
    m16: u8,
    m32: u8,
) {
    match fix {
        Some((base, max)) if len <= max => out.push(base | len as u8),
        _ => {
            if let Some(m8) = m8.filter(|_| len <= 0xff) {
                out.extend_from_slice(&[m8, len as u8]);
            } else if len <= 0xffff {
                out.push(m16);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            } else {
                out.push(m32);
                out.extend_from_slice(&(len as u32).to_be_bytes());
            }
        }
    }
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    write_len(out, s.len(), Some((0xa0, 31)), Some(0xd9), 0xda, 0xdb);
    out.extend_from_slice(s.as_bytes());
}

fn write_bin(out: &mut Vec<u8>, b: &[u8]) {
    write_len(out, b.len(), None, Some(0xc4), 0xc5, 0xc6);
    out.extend_from_slice(b);
}

fn write_array_len(out: &mut Vec<u8>, n: usize) {
    write_len(out, n, Some((0x90, 15)), None, 0xdc, 0xdd);
}

fn write_map_len(out: &mut Vec<u8>, n: usize) {
    write_len(out, n, Some((0x80, 15)), None, 0xde, 0xdf);
}

fn write_ext(out: &mut Vec<u8>, ty: i8, data: &[u8]) {
    match data.len() {
        1 => out.push(0xd4),
        2 => out.push(0xd5),
        4 => out.push(0xd6),
        8 => out.push(0xd7),
        16 => out.push(0xd8),
        n if n <= 0xff => out.extend_from_slice(&[0xc7, n as u8]),
        n if n <= 0xffff => {
            out.push(0xc8);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0xc9);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
    }
    out.push(ty as u8);
    out.extend_from_slice(data);
}

// ---------------------------------------------------------------- decoding

/// One msgpack item header (containers carry their element count).
#[derive(Debug)]
enum Head<'a> {
    Nil,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(&'a [u8]),
    Bin(&'a [u8]),
    Array(usize),
    Map(usize),
    Ext(i8, &'a [u8]),
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Values decoded so far and absent object attributes filled with null: fills are
    /// bounded by [`super::fill_budget`] of the values, so a wide object type declared in a
    /// `dynamic` wrapper cannot turn each one-byte `{}` into hundreds of nulls.
    items: usize,
    fills: usize,
    /// Nesting below a `dynamic` wrapper: refinements there are dropped, because the
    /// encoder cannot reproduce them (a `dynamic` unknown is written as a plain ext 0).
    in_dynamic: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader {
            buf,
            pos: 0,
            items: 0,
            fills: 0,
            in_dynamic: 0,
        }
    }
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.buf.len())
            .ok_or_else(|| "unexpected end of msgpack data".to_string())?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn be<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn len(&mut self, bytes: usize) -> Result<usize, String> {
        Ok(match bytes {
            1 => usize::from(self.u8()?),
            2 => usize::from(u16::from_be_bytes(self.be()?)),
            _ => u32::from_be_bytes(self.be()?) as usize,
        })
    }

    /// Container counts can't exceed the remaining bytes (each element is ≥ 1 byte).
    fn count(&mut self, n: usize) -> Result<usize, String> {
        if n > self.buf.len() - self.pos {
            return Err(format!("collection length {n} exceeds the data"));
        }
        Ok(n)
    }

    fn head(&mut self) -> Result<Head<'a>, String> {
        let m = self.u8()?;
        Ok(match m {
            0x00..=0x7f => Head::Int(i64::from(m)),
            0x80..=0x8f => Head::Map(self.count(usize::from(m & 0x0f))?),
            0x90..=0x9f => Head::Array(self.count(usize::from(m & 0x0f))?),
            0xa0..=0xbf => Head::Str(self.take(usize::from(m & 0x1f))?),
            0xc0 => Head::Nil,
            0xc2 => Head::Bool(false),
            0xc3 => Head::Bool(true),
            0xc4..=0xc6 => {
                let n = self.len(1 << (m - 0xc4))?;
                Head::Bin(self.take(n)?)
            }
            0xc7..=0xc9 => {
                let n = self.len(1 << (m - 0xc7))?;
                let t = self.u8()? as i8;
                Head::Ext(t, self.take(n)?)
            }
            0xca => Head::Float(f64::from(f32::from_be_bytes(self.be()?))),
            0xcb => Head::Float(f64::from_be_bytes(self.be()?)),
            0xcc => Head::UInt(u64::from(self.u8()?)),
            0xcd => Head::UInt(u64::from(u16::from_be_bytes(self.be()?))),
            0xce => Head::UInt(u64::from(u32::from_be_bytes(self.be()?))),
            0xcf => Head::UInt(u64::from_be_bytes(self.be()?)),
            0xd0 => Head::Int(i64::from(self.u8()? as i8)),
            0xd1 => Head::Int(i64::from(i16::from_be_bytes(self.be()?))),
            0xd2 => Head::Int(i64::from(i32::from_be_bytes(self.be()?))),
            0xd3 => Head::Int(i64::from_be_bytes(self.be()?)),
            0xd4..=0xd8 => {
                let t = self.u8()? as i8;
                Head::Ext(t, self.take(1 << (m - 0xd4))?)
            }
            0xd9..=0xdb => {
                let n = self.len(1 << (m - 0xd9))?;
                Head::Str(self.take(n)?)
            }
            0xdc | 0xdd => {
                let n = self.len(if m == 0xdc { 2 } else { 4 })?;
                Head::Array(self.count(n)?)
            }
            0xde | 0xdf => {
                let n = self.len(if m == 0xde { 2 } else { 4 })?;
                Head::Map(self.count(n)?)
            }
            0xe0..=0xff => Head::Int(i64::from(m as i8)),
            0xc1 => return Err("invalid msgpack marker 0xc1".into()),
        })
    }

    fn skip(&mut self, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err("msgpack nested too deeply".into());
        }
        match self.head()? {
            Head::Array(n) => (0..n).try_for_each(|_| self.skip(depth + 1)),
            Head::Map(n) => (0..n * 2).try_for_each(|_| self.skip(depth + 1)),
            _ => Ok(()),
        }
    }
}

/// Decodes msgpack bytes as a value of `ty`, as go-cty's `msgpack.Unmarshal` does.
///
/// Nil is null at any type. Any ext type is an unknown (forward compatibility); only ext 12
/// under a non-`dynamic` type carries refinements. Numbers may be ints, floats or decimal
/// strings. Object attributes missing from the bytes become null. Never panics and never
/// allocates more than the input justifies.
///
/// # Errors
/// Truncated or malformed bytes, a wire kind that does not fit `ty`, NaN, invalid UTF-8, an
/// unparsable number string, malformed refinements, an attribute not in the object type, a
/// tuple of the wrong length, a bad `dynamic` wrapper, nesting deeper than 128, or trailing
/// bytes after the value.
pub fn decode(ty: &Type, bytes: &[u8]) -> Result<Value, DecodeError> {
    let mut r = Reader::new(bytes);
    let v = dec(&mut r, ty, &PathRef::Root, 0)?;
    if r.pos != bytes.len() {
        return Err(DecodeError {
            path: AttributePath::root(),
            message: format!("{} unexpected trailing bytes", bytes.len() - r.pos),
        });
    }
    Ok(v)
}

fn dec(
    r: &mut Reader<'_>,
    ty: &Type,
    path: &PathRef<'_>,
    depth: usize,
) -> Result<Value, DecodeError> {
    let err = |m: String| DecodeError {
        path: path.to_path(),
        message: m,
    };
    if depth > MAX_DEPTH {
        return Err(err("value nested too deeply".into()));
    }
    let head = r.head().map_err(err)?;
    r.items += 1;
    let want = |h: &Head<'_>| {
        err(format!(
            "expected {}, found msgpack {}",
            ty.friendly_name(),
            head_kind(h)
        ))
    };
    match head {
        Head::Nil => return Ok(Value::Null),
        // any ext type is an unknown (forward compatibility); only 12 carries refinements,
        // and malformed refinements are an error (as in cty)
        Head::Ext(t, data) => {
            if t == EXT_REFINED && !data.is_empty() && *ty != Type::Dynamic && r.in_dynamic == 0 {
                return Ok(Value::refined_unknown(
                    decode_refinements(data).map_err(err)?,
                ));
            }
            return Ok(Value::unknown());
        }
        _ => {}
    }
    Ok(match (ty, head) {
        (Type::Dynamic, Head::Array(2)) => {
            let tb = match r.head().map_err(err)? {
                Head::Bin(b) | Head::Str(b) => b,
                h => {
                    return Err(err(format!(
                        "dynamic value type must be bytes, found {}",
                        head_kind(&h)
                    )));
                }
            };
            let t = type_json::from_bytes(tb).map_err(|e| err(e.to_string()))?;
            r.in_dynamic += 1;
            let v = dec(r, &t, path, depth + 1);
            r.in_dynamic -= 1;
            v?
        }
        (Type::Bool, Head::Bool(b)) => Value::Bool(b),
        (Type::Number, Head::Int(i)) => Value::int(i),
        (Type::Number, Head::UInt(u)) => Value::Number(Number::from(u)),
        (Type::Number, Head::Float(f)) => {
            Value::Number(Number::from_f64(f).ok_or_else(|| err("NaN is not a number".into()))?)
        }
        (Type::Number, Head::Str(s)) => {
            let s = std::str::from_utf8(s).map_err(|_| err("number string is not UTF-8".into()))?;
            Value::Number(Number::parse(s).map_err(|e| err(e.to_string()))?)
        }
        (Type::String, Head::Str(s)) => Value::String(
            String::from_utf8(s.to_vec()).map_err(|_| err("string is not valid UTF-8".into()))?,
        ),
        (Type::List(e), Head::Array(n)) => {
            let items: Vec<Value> = (0..n)
                .map(|i| dec(r, e, &path.index(i), depth + 1))
                .collect::<Result<_, _>>()?;
            if r.in_dynamic > 0 {
                super::dynamic_elements_agree(e, items.iter()).map_err(err)?;
            }
            Value::List(items)
        }
        (Type::Set(e), Head::Array(n)) => {
            let items: Vec<Value> = (0..n)
                .map(|_| dec(r, e, path, depth + 1))
                .collect::<Result<_, _>>()?;
            if r.in_dynamic > 0 {
                super::dynamic_elements_agree(e, items.iter()).map_err(err)?;
            }
            Value::Set(items)
        }
        (Type::Tuple(ts), Head::Array(n)) => {
            if n != ts.len() {
                return Err(err(format!("tuple needs {} elements, found {n}", ts.len())));
            }
            Value::Tuple(
                ts.iter()
                    .enumerate()
                    .map(|(i, t)| dec(r, t, &path.index(i), depth + 1))
                    .collect::<Result<_, _>>()?,
            )
        }
        (Type::Map(e), Head::Map(n)) => {
            let mut m = BTreeMap::new();
            for _ in 0..n {
                let k = read_key(r).map_err(err)?;
                let v = dec(r, e, &path.key(&k), depth + 1)?;
                m.insert(k, v);
            }
            if r.in_dynamic > 0 {
                super::dynamic_elements_agree(e, m.values()).map_err(err)?;
            }
            Value::Map(m)
        }
        (Type::Object(o), Head::Map(n)) => {
            // Terraform sends the attributes in the type's (sorted) order: each key is checked
            // against the next attribute of the type, and only a key out of that order costs a
            // lookup. Keys in order are sorted and unique, so the map is built in one pass.
            let mut in_order: Vec<(String, Value)> = Vec::with_capacity(n.min(o.attrs.len()));
            let mut m = BTreeMap::new();
            let mut expected = Some(o.attrs.iter());
            for _ in 0..n {
                let raw = read_key_bytes(r).map_err(err)?;
                // The expected name is a copy away; only another key is checked for UTF-8.
                let (k, t) = match expected.as_mut().and_then(Iterator::next) {
                    Some((name, t)) if name.as_bytes() == raw => (name.clone(), t),
                    _ => {
                        // Out of order (or an unknown key): from here on, a map and lookups.
                        if expected.take().is_some() {
                            m.extend(in_order.drain(..));
                        }
                        let k = key_text(raw).map_err(err)?;
                        let Some(t) = o.attrs.get(&k) else {
                            return Err(DecodeError {
                                path: path.attr(&k).to_path(),
                                message: "unsupported attribute (not in the schema)".into(),
                            });
                        };
                        (k, t)
                    }
                };
                let v = dec(r, t, &path.attr(&k), depth + 1)?;
                if expected.is_some() {
                    in_order.push((k, v));
                } else {
                    m.insert(k, v);
                }
            }
            if expected.is_some() {
                // Sorted and unique (each matched the next attribute): built without searching.
                m = in_order.into_iter().collect();
            }
            // Terraform always sends every attribute; be lenient and fill gaps with null,
            // within a budget proportional to the values decoded.
            r.fills += o.attrs.len() - m.len();
            if r.fills > super::fill_budget(r.items) {
                return Err(err(super::FILL_BUDGET_EXCEEDED.into()));
            }
            // Only the missing ones: `entry` would copy every key to look it up.
            if m.len() < o.attrs.len() {
                for k in o.attrs.keys() {
                    if !m.contains_key(k) {
                        m.insert(k.clone(), Value::Null);
                    }
                }
            }
            Value::Object(m)
        }
        (_, h) => return Err(want(&h)),
    })
}

fn head_kind(h: &Head<'_>) -> &'static str {
    match h {
        Head::Nil => "nil",
        Head::Bool(_) => "bool",
        Head::Int(_) | Head::UInt(_) => "int",
        Head::Float(_) => "float",
        Head::Str(_) => "str",
        Head::Bin(_) => "bin",
        Head::Array(_) => "array",
        Head::Map(_) => "map",
        Head::Ext(..) => "ext",
    }
}

fn read_key(r: &mut Reader<'_>) -> Result<String, String> {
    key_text(read_key_bytes(r)?)
}

fn read_key_bytes<'a>(r: &mut Reader<'a>) -> Result<&'a [u8], String> {
    match r.head()? {
        Head::Str(s) => Ok(s),
        h => Err(format!("map key must be a string, found {}", head_kind(&h))),
    }
}

fn key_text(raw: &[u8]) -> Result<String, String> {
    String::from_utf8(raw.to_vec()).map_err(|_| "map key is not UTF-8".to_string())
}

fn decode_refinements(data: &[u8]) -> Result<Refinements, String> {
    let mut r = Reader::new(data);
    let mut out = Refinements::default();
    let Head::Map(n) = r.head()? else {
        return Err("refinements must be a msgpack map".into());
    };
    for _ in 0..n {
        let key = match r.head()? {
            Head::Int(i) => i,
            Head::UInt(u) => i64::try_from(u).unwrap_or(-1),
            _ => return Err("refinement key must be an integer".into()),
        };
        match key {
            1 => {
                let Head::Bool(b) = r.head()? else {
                    return Err("the null refinement must be a bool".into());
                };
                out.not_null = !b;
            }
            2 => {
                let Head::Str(s) = r.head()? else {
                    return Err("the string prefix refinement must be a string".into());
                };
                out.string_prefix = Some(String::from_utf8_lossy(s).into_owned());
            }
            3 | 4 => {
                let Head::Array(2) = r.head()? else {
                    return Err("number bound must be [number, bool]".into());
                };
                let n =
                    match dec(&mut r, &Type::Number, &PathRef::Root, 0).map_err(|e| e.message)? {
                        Value::Number(n) => n,
                        _ => return Err("number bound must be a number".into()),
                    };
                let inc = matches!(r.head()?, Head::Bool(true));
                if key == 3 {
                    out.number_lower = Some((n, inc));
                } else {
                    out.number_upper = Some((n, inc));
                }
            }
            5 | 6 => {
                let l = match r.head()? {
                    Head::Int(i) => u64::try_from(i).unwrap_or(0),
                    Head::UInt(u) => u,
                    _ => return Err("length bound must be an integer".into()),
                };
                if key == 5 {
                    out.length_lower = Some(l);
                } else {
                    out.length_upper = Some(l);
                }
            }
            _ => r.skip(0)?, // unknown refinement: ignore, per the wire-format doc
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect()
    }

    fn vector_type() -> Type {
        Type::object([
            ("computed_num", Type::Number),
            ("dyn", Type::Dynamic),
            ("id", Type::String),
            ("items", Type::set(Type::String)),
            ("name", Type::String),
            ("rule", Type::list(Type::object([("port", Type::Number)]))),
            ("secret", Type::String),
            ("tags", Type::map(Type::String)),
        ])
    }

    /// The observed Terraform 1.11.4 vector from protocol.md §6.2 decodes and re-encodes byte-for-byte.
    #[test]
    fn terraform_vector_round_trips() {
        let bytes = hex(
            "88ac636f6d70757465645f6e756dc0a364796e92c4195b226f626a656374222c7b226b223a226e756d626572227d5d81a16b01a26964c0a56974656d7392a178a179a46e616d65a26e31a472756c659181a4706f727450a6736563726574c0a47461677382a161a131a162a132",
        );
        let v = decode(&vector_type(), &bytes).expect("decode");
        assert_eq!(v.get("name").as_str(), Some("n1"));
        assert_eq!(v.get("dyn").get("k").as_i64(), Some(1));
        assert_eq!(encode(&vector_type(), &v).expect("encode"), bytes);
    }

    /// Keys in the type's order take the one-pass path; any other order, a repeated key (the
    /// last wins) or a missing one decode to the same object, and an unknown key is refused by
    /// name, wherever it comes.
    #[test]
    fn object_keys_in_any_order() {
        let t = Type::object([
            ("a", Type::String),
            ("b", Type::String),
            ("c", Type::String),
        ]);
        let s = |v: &str| Value::String(v.into());
        let want = Value::Object(
            [("a", s("1")), ("b", s("2")), ("c", s("3"))]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        );
        // {a:1, b:2, c:3}, {c:3, a:1, b:2}, {a:9, b:2, a:1, c:3}
        for raw in [
            "83a161a131a162a132a163a133",
            "83a163a133a161a131a162a132",
            "84a161a139a162a132a161a131a163a133",
        ] {
            assert_eq!(decode(&t, &hex(raw)), Ok(want.clone()), "{raw}");
        }
        // {a:1, c:3}: b filled with null
        let v = decode(&t, &hex("82a161a131a163a133")).expect("decode");
        assert_eq!(v.get("b"), &Value::Null);
        assert_eq!(v.get("c").as_str(), Some("3"));
        // {a:1, x:0} and {x:0, a:1}
        for raw in ["82a161a131a17800", "82a17800a161a131"] {
            let e = decode(&t, &hex(raw)).expect_err(raw);
            assert!(e.to_string().contains("x"), "{e}");
        }
        // Encoding: every attribute, in order; a key the type lacks is refused, wherever it sorts.
        assert_eq!(
            encode(&t, &want).expect("encode"),
            hex("83a161a131a162a132a163a133")
        );
        for extra in ["0", "bb", "z"] {
            let Value::Object(mut m) = want.clone() else {
                unreachable!()
            };
            m.insert(extra.into(), s("x"));
            let e = encode(&t, &Value::Object(m)).expect_err(extra);
            assert!(e.to_string().contains(extra), "{e}");
        }
    }

    #[test]
    fn unknowns() {
        assert_eq!(decode(&Type::String, &[0xd4, 0, 0]), Ok(Value::unknown()));
        let refined = hex("c7090c8201c202a47072652d");
        let v = decode(&Type::String, &refined).expect("refined");
        let Value::Unknown(r) = &v else {
            panic!("not unknown")
        };
        assert!(r.not_null);
        assert_eq!(r.string_prefix.as_deref(), Some("pre-"));
        assert_eq!(encode(&Type::String, &v).expect("enc"), refined);
        assert_eq!(
            encode(&Type::String, &Value::unknown()).expect("enc"),
            vec![0xd4, 0, 0]
        );
        // any other ext type is a plain unknown; an empty refinement map is too
        assert_eq!(
            decode(&Type::String, &[0xd4, 0x63, 0]),
            Ok(Value::unknown())
        );
        assert_eq!(
            decode(&Type::String, &[0xd4, 0x0c, 0x80]),
            Ok(Value::unknown())
        );
        // malformed refinements are an error, even in a one-byte payload
        for bad in [
            &[0xd4, 0x0c, 0xc1][..],
            &[0xd5, 0x0c, 0x81, 0x01],
            &hex("c7040c8101a178"),
        ] {
            assert!(decode(&Type::String, bad).is_err(), "{bad:02x?}");
        }
    }

    #[test]
    fn numbers_in_all_forms() {
        let t = Type::Number;
        assert_eq!(
            decode(&t, &[0xcb, 0x40, 0x04, 0, 0, 0, 0, 0, 0]).ok(),
            Number::from_f64(2.5).map(Value::Number)
        );
        let big = "123456789012345678901234567890.5";
        let mut b = vec![0xd9, big.len() as u8];
        b.extend_from_slice(big.as_bytes());
        let v = decode(&t, &b).expect("big");
        assert_eq!(encode(&t, &v).expect("enc"), b);
        assert_eq!(encode(&t, &Value::int(-1)).expect("enc"), vec![0xff]);
        assert_eq!(
            decode(&t, &[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
                .expect("u64")
                .as_number()
                .map(ToString::to_string),
            Some(u64::MAX.to_string())
        );
    }

    /// `[type JSON, value]` as a `dynamic` slot carries it.
    fn dynamic(ty: &str, value: &[u8]) -> Vec<u8> {
        let mut v = vec![0x92, 0xc4, ty.len() as u8];
        v.extend_from_slice(ty.as_bytes());
        v.extend_from_slice(value);
        v
    }

    /// Fuzz finding (round_trip): a refined unknown inside a `dynamic` wrapper decoded with
    /// its refinements, but re-encoded as a plain unknown (values carry no type, so a
    /// `dynamic` unknown is ext 0), so decode → encode → decode changed the value.
    #[test]
    fn refinements_under_dynamic_are_dropped() {
        let refined = [0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2]; // ext 12 {1: false}: not null
        assert!(
            decode(&Type::String, &refined)
                .expect("dec")
                .refinements()
                .is_some_and(|r| r.not_null)
        );
        for bytes in [
            dynamic("\"string\"", &refined),
            dynamic(
                "[\"list\",\"string\"]",
                &[[0x91].as_slice(), &refined].concat(),
            ),
        ] {
            let v = decode(&Type::Dynamic, &bytes).expect("dec");
            let again = decode(&Type::Dynamic, &encode(&Type::Dynamic, &v).expect("enc"));
            assert_eq!(again, Ok(v));
        }
    }

    /// Fuzz finding (round_trip): inside a `dynamic` wrapper, `list(dynamic)` elements of
    /// different types decoded (cty would reject them) but could not be encoded again: the
    /// encoder infers one element type for a collection in a `dynamic` slot.
    #[test]
    fn dynamic_collection_elements_must_agree() {
        let mut two = vec![0x92];
        two.extend(dynamic("\"string\"", &[0xa1, b'a']));
        two.extend(dynamic("\"number\"", &[0x01]));
        let wrapped = dynamic("[\"list\",\"dynamic\"]", &two);
        let e = decode(&Type::Dynamic, &wrapped).expect_err("mixed types");
        assert!(e.message.contains("different types"), "{e}");
        let wrapped = dynamic("[\"set\",\"dynamic\"]", &two);
        assert!(decode(&Type::Dynamic, &wrapped).is_err());
        // a schema's own list(dynamic) wraps each element, so mixed types round-trip there
        let t = Type::list(Type::Dynamic);
        let v = decode(&t, &two).expect("schema list(dynamic)");
        assert_eq!(decode(&t, &encode(&t, &v).expect("enc")), Ok(v));
        // the same types (and nulls, unknowns) are fine and round-trip
        let mut same = vec![0x93, 0xc0];
        same.extend(dynamic("\"string\"", &[0xa1, b'a']));
        same.extend(dynamic("\"string\"", &[0xa1, b'b']));
        let t = Type::Dynamic;
        let v = decode(&t, &dynamic("[\"list\",\"dynamic\"]", &same)).expect("same types");
        assert_eq!(decode(&t, &encode(&t, &v).expect("enc")), Ok(v));
    }

    /// Fuzz finding (msgpack_decode, heap bound): a wide object type declared in a `dynamic`
    /// wrapper and a list of one-byte `{}` filled every absent attribute with null, so
    /// 4.7 KB of input built ~60 MB (quadratic). Filling is now budgeted.
    #[test]
    fn null_filling_is_linear_in_the_input() {
        let attrs: Vec<String> = (0..200).map(|i| format!("\"a{i}\":\"bool\"")).collect();
        let ty = format!("[\"list\",[\"object\",{{{}}}]]", attrs.join(","));
        let mut v = vec![0x92, 0xc5];
        v.extend_from_slice(&(ty.len() as u16).to_be_bytes());
        v.extend_from_slice(ty.as_bytes());
        v.extend_from_slice(&[0xdc, 0x07, 0xd0]); // 2000 elements
        v.extend(std::iter::repeat_n(0x80, 2000));
        let e = decode(&Type::Dynamic, &v).expect_err("over budget");
        assert!(e.message.contains("absent object attributes"), "{e}");
        // lenient input stays accepted: a few empty objects of a wide schema type
        let t = Type::list(Type::object(
            (0..200).map(|i| (format!("a{i}"), Type::Bool)),
        ));
        let ok = decode(&t, &[0x93, 0x80, 0x80, 0x80]).expect("within budget");
        assert_eq!(ok.as_list().map(<[Value]>::len), Some(3));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let t = vector_type();
        for bad in [
            &b""[..],
            &[0xc1],
            &[0xdd, 0xff, 0xff, 0xff, 0xff],
            &[0x81, 0xa1, b'z', 0xc0],
            &[0x92, 0xc4, 0x01],
            &[0xa1],
        ] {
            assert!(decode(&t, bad).is_err(), "{bad:?}");
        }
        assert!(decode(&Type::Dynamic, &[0x92, 0xc4, 0x01, b'{', 0xc0]).is_err());
        assert!(decode(&Type::String, &[0xc0, 0xc0]).is_err());
    }
}
