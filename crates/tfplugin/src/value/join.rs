//! Walking an object type's attributes and an object value's entries together.
//!
//! Both are sorted by name (a `BTreeMap`), so one merge pass pairs each attribute with its value
//! and finds the keys the type lacks: no map lookup per attribute. The walkers on the hot path of
//! every RPC (encoding, conformance checks, fitting a model's value to the schema) use it; a plan
//! of a thousand instances makes tens of thousands of such lookups otherwise.

use std::collections::BTreeMap;
use std::iter::Peekable;

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

#[cfg(test)]
mod tests {
    use super::*;

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
