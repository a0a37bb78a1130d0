//! Walking an object type's attributes and an object value's entries together.
//!
//! Both are sorted by name (a `BTreeMap`), so one merge pass pairs each attribute with its value
//! and finds the keys the type lacks: no map lookup per attribute. The walkers on the hot path of
//! every RPC (encoding, conformance checks, fitting a model's value to the schema) use it; a plan
//! of a thousand instances makes tens of thousands of such lookups otherwise.

use std::collections::BTreeMap;
use std::iter::Peekable;

use super::{NULL, Value};

/// One step of [`join`], in name order.
#[derive(Debug, PartialEq)]
pub(crate) enum Pair<'t, T, K, V> {
    /// An attribute and the value's entry for it.
    Both(&'t str, &'t T, V),
    /// An attribute the value has no entry for.
    TypeOnly(&'t str, &'t T),
    /// An entry whose key is not an attribute of the type.
    ValueOnly(K, V),
}

/// Pairs `types` with `values`, an iterator over entries sorted by key (a `BTreeMap`'s `iter`
/// or `iter_mut`). A `values` out of order still yields every entry once, but may misreport
/// which are paired.
pub(crate) fn join<'t, T, K, V, I>(types: &'t BTreeMap<String, T>, values: I) -> Join<'t, T, I>
where
    K: AsRef<str>,
    I: Iterator<Item = (K, V)>,
{
    Join {
        types: types.iter().peekable(),
        values: values.peekable(),
    }
}

/// The iterator of [`join`].
pub(crate) struct Join<'t, T, I: Iterator> {
    types: Peekable<std::collections::btree_map::Iter<'t, String, T>>,
    values: Peekable<I>,
}

impl<'t, T, K, V, I> Iterator for Join<'t, T, I>
where
    K: AsRef<str>,
    I: Iterator<Item = (K, V)>,
{
    type Item = Pair<'t, T, K, V>;

    fn next(&mut self) -> Option<Self::Item> {
        let order = match (self.types.peek(), self.values.peek()) {
            (None, None) => return None,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some((name, _)), Some((key, _))) => name.as_str().cmp(key.as_ref()),
        };
        Some(match order {
            std::cmp::Ordering::Less => {
                let (name, t) = self.types.next()?;
                Pair::TypeOnly(name, t)
            }
            std::cmp::Ordering::Greater => {
                let (key, v) = self.values.next()?;
                Pair::ValueOnly(key, v)
            }
            std::cmp::Ordering::Equal => {
                let (name, t) = self.types.next()?;
                let (_, v) = self.values.next()?;
                Pair::Both(name, t, v)
            }
        })
    }
}

/// `items` in name order, for walkers that read each item's value with a [`Cursor`]. Schemas
/// list attributes in declaration order (the docs' order); sorting a few dozen references costs
/// far less than the tree lookups it replaces (several per attribute on every plan).
pub(crate) fn by_name<T>(items: &[T], name: impl Fn(&T) -> &str) -> Vec<&T> {
    let mut out: Vec<&T> = items.iter().collect();
    if !out.is_sorted_by(|a, b| name(a) <= name(b)) {
        out.sort_by(|a, b| name(a).cmp(name(b)));
    }
    out
}

/// Reads an object's (or map's) entries for names asked in ascending order: [`Value::get`]'s
/// answers (null when absent, or when the value is not an object) with one forward pass over
/// the entries instead of a tree search per name. A name asked out of order reads as null.
pub(crate) struct Cursor<'v> {
    entries: Option<Peekable<std::collections::btree_map::Iter<'v, String, Value>>>,
}

impl<'v> Cursor<'v> {
    pub(crate) fn new(v: &'v Value) -> Self {
        let entries = match v {
            Value::Object(m) | Value::Map(m) => Some(m.iter().peekable()),
            _ => None,
        };
        Cursor { entries }
    }

    pub(crate) fn get(&mut self, name: &str) -> &'v Value {
        let Some(it) = &mut self.entries else {
            return &NULL;
        };
        while let Some((k, v)) = it.peek() {
            match k.as_str().cmp(name) {
                std::cmp::Ordering::Less => {
                    it.next();
                }
                std::cmp::Ordering::Equal => return v,
                std::cmp::Ordering::Greater => break,
            }
        }
        &NULL
    }
}

/// The mutable [`Cursor`]: [`Value::get_mut`]'s answers for names asked in ascending order. Each
/// entry is handed out at most once (a name asked twice is `None` the second time).
pub(crate) struct CursorMut<'v> {
    entries: Option<Peekable<std::collections::btree_map::IterMut<'v, String, Value>>>,
}

impl<'v> CursorMut<'v> {
    pub(crate) fn new(v: &'v mut Value) -> Self {
        let entries = match v {
            Value::Object(m) | Value::Map(m) => Some(m.iter_mut().peekable()),
            _ => None,
        };
        CursorMut { entries }
    }

    pub(crate) fn get_mut(&mut self, name: &str) -> Option<&'v mut Value> {
        let it = self.entries.as_mut()?;
        loop {
            let order = it.peek().map(|(k, _)| k.as_str().cmp(name))?;
            match order {
                std::cmp::Ordering::Less => {
                    it.next();
                }
                std::cmp::Ordering::Equal => return it.next().map(|(_, v)| v),
                std::cmp::Ordering::Greater => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_answer_like_lookups() {
        let v = Value::object([("b", Value::from("B")), ("d", Value::from("D"))]);
        let names = ["a", "b", "c", "d", "e"];
        let mut c = Cursor::new(&v);
        for n in names {
            assert_eq!(c.get(n), v.get(n), "{n}");
        }
        assert!(Cursor::new(&Value::Null).get("b").is_null());
        let mut w = v.clone();
        let mut c = CursorMut::new(&mut w);
        assert!(c.get_mut("a").is_none());
        *c.get_mut("b").expect("b") = Value::from("x");
        assert!(c.get_mut("c").is_none());
        assert!(c.get_mut("b").is_none(), "handed out once");
        assert!(c.get_mut("d").is_some());
        assert_eq!(w.get("b"), &Value::from("x"));
        let items = ["zeta", "alpha", "mid"];
        assert_eq!(by_name(&items, |s| s), [&"alpha", &"mid", &"zeta"]);
    }

    #[test]
    fn pairs_in_name_order() {
        let types: BTreeMap<String, u8> = [("b", 1), ("d", 2), ("e", 3)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let values: BTreeMap<String, char> = [("a", 'a'), ("b", 'b'), ("e", 'e'), ("f", 'f')]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let got: Vec<_> = join(&types, values.iter()).collect();
        assert_eq!(
            got,
            vec![
                Pair::ValueOnly(&"a".to_string(), &'a'),
                Pair::Both("b", &1, &'b'),
                Pair::TypeOnly("d", &2),
                Pair::Both("e", &3, &'e'),
                Pair::ValueOnly(&"f".to_string(), &'f'),
            ]
        );
        let empty: BTreeMap<String, char> = BTreeMap::new();
        assert_eq!(join(&types, empty.iter()).count(), 3);
        assert_eq!(
            join(&BTreeMap::<String, u8>::new(), values.iter()).count(),
            4
        );
    }

    #[test]
    fn values_can_be_changed_in_place() {
        let types: BTreeMap<String, u8> = [("a".to_string(), 10), ("b".to_string(), 20)].into();
        let mut values: BTreeMap<String, u8> = [("a".to_string(), 1), ("b".to_string(), 2)].into();
        for p in join(&types, values.iter_mut()) {
            if let Pair::Both(_, t, v) = p {
                *v += *t;
            }
        }
        assert_eq!(values["a"], 11);
        assert_eq!(values["b"], 22);
    }
}
