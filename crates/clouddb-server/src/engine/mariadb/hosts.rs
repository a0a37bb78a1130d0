//! Access rules (CIDRs) as MariaDB host patterns.
//!
//! MariaDB matches a TCP client against an account's host part; it knows IPv4 netmasks
//! (`'10.0.0.0/255.0.0.0'`: client & mask == address), literal addresses and `%` (any), but no
//! IPv6 prefixes. The server listens on 127.0.0.1 only, so every client it sees has an IPv4
//! address; an IPv6 rule therefore counts through the IPv4-mapped range `::ffff:0:0/96` alone:
//!
//! - IPv4 `a.b.c.d/len` → `'net/mask'` with the host bits cleared (MariaDB compares the masked
//!   client address with the stored address exactly); `/32` → the literal address; `/0` → `'%'`.
//! - IPv6 inside `::ffff:0:0/96` (e.g. `::ffff:10.0.0.0/104`) → the IPv4 pattern it maps to;
//!   IPv6 containing the whole mapped range (e.g. `::/0`) → `'%'`; any other IPv6 → no pattern
//!   (no IPv4 client can match it).

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::engine::{AccessRule, EngineError};

/// The host patterns of a rule set, deduplicated. An unparsable CIDR is an error (the API
/// validates them; a driver that silently dropped one would open less than asked, confusingly).
pub(super) fn patterns(rules: &[AccessRule]) -> Result<BTreeSet<String>, EngineError> {
    let mut out = BTreeSet::new();
    for rule in rules {
        match pattern(&rule.cidr)? {
            Some(p) => {
                out.insert(p);
            }
            None => tracing::info!(
                rule = %rule.name,
                cidr = %rule.cidr,
                "MariaDB listens on 127.0.0.1 only: this IPv6 rule admits no client"
            ),
        }
    }
    Ok(out)
}

/// The pattern of one CIDR (a bare address is a /32 or /128).
pub(super) fn pattern(cidr: &str) -> Result<Option<String>, EngineError> {
    let bad = || EngineError::Other(format!("{cidr:?} is not an IPv4 or IPv6 CIDR"));
    let (addr, len) = match cidr.trim().split_once('/') {
        Some((a, l)) => (a, Some(l.parse::<u8>().map_err(|_| bad())?)),
        None => (cidr.trim(), None),
    };
    match addr.parse::<IpAddr>().map_err(|_| bad())? {
        IpAddr::V4(ip) => {
            let len = len.unwrap_or(32);
            if len > 32 {
                return Err(bad());
            }
            Ok(Some(v4_pattern(ip, len)))
        }
        IpAddr::V6(ip) => {
            let len = len.unwrap_or(128);
            if len > 128 {
                return Err(bad());
            }
            Ok(v6_pattern(ip, len))
        }
    }
}

fn v4_pattern(ip: Ipv4Addr, len: u8) -> String {
    match len {
        0 => "%".to_string(),
        32 => ip.to_string(),
        _ => {
            let mask = u32::MAX << (32 - u32::from(len));
            let net = Ipv4Addr::from(u32::from(ip) & mask);
            format!("{net}/{}", Ipv4Addr::from(mask))
        }
    }
}

/// `::ffff:0:0/96`, the IPv4-mapped addresses.
const MAPPED: u128 = 0xffff_u128 << 32;

fn v6_pattern(ip: Ipv6Addr, len: u8) -> Option<String> {
    let bits = u128::from(ip);
    let prefix = |n: u8| {
        if n == 0 {
            0
        } else {
            u128::MAX << (128 - u32::from(n))
        }
    };
    if len <= 96 {
        // The rule holds the whole mapped range iff they agree on the rule's prefix.
        let m = prefix(len);
        (bits & m == MAPPED & m).then(|| "%".to_string())
    } else {
        // The rule lies inside the mapped range iff it starts with its 96 bits.
        let m = prefix(96);
        (bits & m == MAPPED).then(|| {
            // The low 32 bits are the IPv4 address: truncation is the point.
            #[allow(clippy::cast_possible_truncation)]
            let v4 = Ipv4Addr::from(bits as u32);
            v4_pattern(v4, len - 96)
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn p(cidr: &str) -> Option<String> {
        pattern(cidr).unwrap()
    }

    #[test]
    fn ipv4_cidrs_become_netmasks_with_host_bits_cleared() {
        assert_eq!(p("127.0.0.0/8").as_deref(), Some("127.0.0.0/255.0.0.0"));
        assert_eq!(p("10.1.2.3/8").as_deref(), Some("10.0.0.0/255.0.0.0"));
        assert_eq!(
            p("192.168.17.5/20").as_deref(),
            Some("192.168.16.0/255.255.240.0")
        );
        assert_eq!(p("127.0.0.1/32").as_deref(), Some("127.0.0.1"));
        assert_eq!(p("127.0.0.1").as_deref(), Some("127.0.0.1"));
        assert_eq!(p("0.0.0.0/0").as_deref(), Some("%"));
    }

    #[test]
    fn ipv6_counts_only_through_ipv4_mapped_addresses() {
        assert_eq!(
            p("::ffff:10.0.0.0/104").as_deref(),
            Some("10.0.0.0/255.0.0.0")
        );
        assert_eq!(p("::ffff:127.0.0.1/128").as_deref(), Some("127.0.0.1"));
        assert_eq!(p("::/0").as_deref(), Some("%"));
        assert_eq!(p("::ffff:0:0/96").as_deref(), Some("%"));
        assert_eq!(p("::1/128"), None);
        assert_eq!(p("2001:db8::/32"), None);
    }

    #[test]
    fn malformed_cidrs_are_errors() {
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "10.0.0/8",
            "x/8",
            "10.0.0.0/-1",
            "",
        ] {
            assert!(pattern(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_rule_set_is_deduplicated() {
        let rules =
            [("a", "10.0.0.0/8"), ("b", "10.9.9.9/8"), ("c", "::1/128")].map(|(n, c)| AccessRule {
                name: n.into(),
                cidr: c.into(),
            });
        let got: Vec<_> = patterns(&rules).unwrap().into_iter().collect();
        assert_eq!(got, ["10.0.0.0/255.0.0.0"]);
    }
}
