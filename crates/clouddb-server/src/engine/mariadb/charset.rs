//! The API's charset and collation names as MariaDB 10.11 knows them.
//!
//! The API defaults a MySQL database to MySQL 8's `utf8mb4` / `utf8mb4_0900_ai_ci`. MariaDB has no
//! `_0900_` collations (UCA 9.0.0); its nearest are the UCA 14.0.0 ones added in 10.10
//! (`utf8mb4_uca1400_ai_ci`, which MariaDB 11.4 itself made the alias of `utf8mb4_0900_ai_ci`), then
//! `utf8mb4_unicode_520_ci`, `utf8mb4_unicode_ci`. The mapping, tried in order until MariaDB
//! knows one for the charset:
//!
//! - `<cs>_0900_ai_ci` / `<cs>_0900_as_ci` → `<cs>_uca1400_ai_ci` / `_as_ci`, `<cs>_unicode_520_ci`,
//!   `<cs>_unicode_ci`, `<cs>_general_ci`;
//! - `<cs>_0900_as_cs` → `<cs>_uca1400_as_cs`, `<cs>_bin`;  `<cs>_0900_bin` → `<cs>_bin`;
//! - language variants (`utf8mb4_de_pb_0900_ai_ci`) take the plain UCA 14 collation of their
//!   suffix (MariaDB names languages differently: `german2`);
//! - charset `utf8` means `utf8mb3` (as in MySQL 8), and so do `utf8_*` collations;
//! - any other collation MariaDB does not have for the charset → the charset's default, with a
//!   warning in the log. A charset MariaDB does not have is an error: there is no near one.

use super::sql::{Client, literal};
use crate::engine::EngineError;

/// The charset and collation to create a database with.
pub(super) fn resolve(
    client: &Client<'_>,
    charset: &str,
    collation: &str,
) -> Result<(String, String), EngineError> {
    let cs = charset_name(charset);
    let candidates = collation_candidates(&cs, collation);
    let list = candidates
        .iter()
        .map(|c| literal(c))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = client.query(&format!(
        "SELECT 'default', DEFAULT_COLLATE_NAME FROM information_schema.CHARACTER_SETS \
           WHERE CHARACTER_SET_NAME = {cs_lit} \
         UNION ALL SELECT 'known', FULL_COLLATION_NAME \
           FROM information_schema.COLLATION_CHARACTER_SET_APPLICABILITY \
           WHERE CHARACTER_SET_NAME = {cs_lit} AND FULL_COLLATION_NAME IN ({list})",
        cs_lit = literal(&cs)
    ))?;
    let default = rows
        .iter()
        .find(|r| r.first().map(String::as_str) == Some("default"))
        .and_then(|r| r.get(1).cloned())
        .ok_or_else(|| EngineError::Other(format!("MariaDB has no character set {charset:?}")))?;
    let known: Vec<&str> = rows
        .iter()
        .filter(|r| r.first().map(String::as_str) == Some("known"))
        .filter_map(|r| r.get(1).map(String::as_str))
        .collect();
    let chosen = candidates
        .iter()
        .find(|c| known.contains(&c.as_str()))
        .cloned()
        .unwrap_or_else(|| {
            tracing::warn!(
                charset,
                collation,
                fallback = %default,
                "MariaDB has no such collation for the charset; using the charset's default"
            );
            default
        });
    if !chosen.eq_ignore_ascii_case(collation) {
        tracing::info!(requested = collation, used = %chosen, "collation mapped for MariaDB");
    }
    Ok((cs, chosen))
}

/// The charset's MariaDB name.
pub(super) fn charset_name(charset: &str) -> String {
    let cs = charset.to_ascii_lowercase();
    if cs == "utf8" { "utf8mb3".into() } else { cs }
}

/// The collations to try for `collation`, best first (see the module docs).
pub(super) fn collation_candidates(cs: &str, collation: &str) -> Vec<String> {
    let mut c = collation.to_ascii_lowercase();
    if cs == "utf8mb3"
        && let Some(rest) = c.strip_prefix("utf8_")
    {
        c = format!("utf8mb3_{rest}");
    }
    let mut out = vec![c.clone()];
    if let Some(pos) = c.find("0900_") {
        let suffix = &c[pos + "0900_".len()..];
        let tail: &[&str] = match suffix {
            "ai_ci" => &[
                "uca1400_ai_ci",
                "unicode_520_ci",
                "unicode_ci",
                "general_ci",
            ],
            "as_ci" => &[
                "uca1400_as_ci",
                "unicode_520_ci",
                "unicode_ci",
                "general_ci",
            ],
            "as_cs" => &["uca1400_as_cs", "bin"],
            "bin" => &["bin"],
            _ => &[],
        };
        out.extend(tail.iter().map(|t| format!("{cs}_{t}")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mysql8_default_maps_to_uca1400_first() {
        assert_eq!(
            collation_candidates("utf8mb4", "utf8mb4_0900_ai_ci"),
            [
                "utf8mb4_0900_ai_ci",
                "utf8mb4_uca1400_ai_ci",
                "utf8mb4_unicode_520_ci",
                "utf8mb4_unicode_ci",
                "utf8mb4_general_ci"
            ]
        );
        assert_eq!(
            collation_candidates("utf8mb4", "utf8mb4_0900_as_cs"),
            ["utf8mb4_0900_as_cs", "utf8mb4_uca1400_as_cs", "utf8mb4_bin"]
        );
        assert_eq!(
            collation_candidates("utf8mb4", "utf8mb4_de_pb_0900_ai_ci")[1],
            "utf8mb4_uca1400_ai_ci"
        );
    }

    #[test]
    fn known_collations_are_tried_as_given_and_utf8_is_utf8mb3() {
        assert_eq!(
            collation_candidates("latin1", "LATIN1_SWEDISH_CI"),
            ["latin1_swedish_ci"]
        );
        assert_eq!(charset_name("UTF8"), "utf8mb3");
        assert_eq!(collation_candidates("utf8mb3", "utf8_bin"), ["utf8mb3_bin"]);
    }
}
