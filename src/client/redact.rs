//! Scrubbing of text that came from the API (error bodies, problem details, decode errors) and of
//! endpoint URLs, before it goes into a diagnostic or a log line.
//!
//! Rules: the configured token and any password sent in the request are replaced; the value after a
//! secret-looking key (`password`, `token`, `secret`, `authorization`, `api_key`, ...) is replaced;
//! the text is bounded to [`MAX_TEXT`] characters.

/// Longest API-provided text kept in an error (characters).
pub const MAX_TEXT: usize = 500;

const MASK: &str = "<redacted>";

/// Keys whose values are never shown (matched case-insensitively, as a substring of the key).
const SECRET_KEYS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "authorization",
    "api_key",
    "apikey",
    "credential",
    "bearer",
];

/// Redact `text`: known `secrets` (ignoring very short ones), values after secret-looking keys, and
/// everything past [`MAX_TEXT`] characters.
pub fn redact(text: &str, secrets: &[&str]) -> String {
    let mut s = text.to_string();
    for secret in secrets {
        if secret.len() >= 3 {
            s = s.replace(secret, MASK);
        }
    }
    let s = mask_key_values(&s);
    bound(&s)
}

fn bound(s: &str) -> String {
    if s.chars().count() <= MAX_TEXT {
        return s.to_string();
    }
    let mut out: String = s.chars().take(MAX_TEXT).collect();
    out.push_str("… (truncated)");
    out
}

/// Replace the value that follows each secret-looking key: `key: v`, `key=v`, `"key":"v"`,
/// `key 'v'`, `Authorization: Bearer v`.
fn mask_key_values(s: &str) -> String {
    let lower = s.to_ascii_lowercase();
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let hit = SECRET_KEYS
            .iter()
            .filter(|k| lower[i..].starts_with(*k))
            .max_by_key(|k| k.len());
        let Some(key) = hit else {
            let ch = s[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
            continue;
        };
        // Copy the rest of the key word (e.g. `admin_password`, `tokens`).
        let mut j = i + key.len();
        while j < s.len()
            && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_' || bytes[j] == b'-')
        {
            j += 1;
        }
        out.push_str(&s[i..j]);
        // Separators: quotes, spaces, ':' or '='.
        let mut k = j;
        while k < s.len() && matches!(bytes[k], b'"' | b'\'' | b' ' | b'\t' | b':' | b'=') {
            k += 1;
        }
        // An auth scheme word ("Bearer ", "Basic ") belongs to the value.
        for scheme in ["bearer ", "basic "] {
            if lower[k..].starts_with(scheme) {
                k += scheme.len();
            }
        }
        // Prose ("token expired") is left alone: a value needs `:` or `=` (a bearer credential, a space).
        let assigned = s[j..k].contains([':', '=']) || (*key == "bearer" && k > j);
        let value_start = k;
        while k < s.len()
            && !matches!(
                bytes[k],
                b'"' | b'\''
                    | b','
                    | b';'
                    | b'&'
                    | b'}'
                    | b']'
                    | b')'
                    | b' '
                    | b'\t'
                    | b'\n'
                    | b'\r'
                    | b'<'
            )
        {
            k += 1;
        }
        if assigned && k > value_start {
            out.push_str(&s[j..value_start]);
            out.push_str(MASK);
            i = k;
        } else {
            i = j;
        }
    }
    out
}

/// The string values of secret-looking keys anywhere in a JSON request body (e.g. `admin_password`),
/// so that an API echoing them back cannot leak them.
pub fn secrets_in_json(body: &[u8]) -> Vec<String> {
    fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    let k = k.to_ascii_lowercase();
                    match v {
                        serde_json::Value::String(s)
                            if SECRET_KEYS.iter().any(|sk| k.contains(sk)) =>
                        {
                            out.push(s.clone())
                        }
                        other => walk(other, out),
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        walk(&v, &mut out);
    }
    out
}

/// An endpoint as it may be shown: any `user:password@` replaced by `***@`.
pub fn endpoint(raw: &str) -> String {
    let (scheme, rest) = match raw.find("://") {
        Some(i) => raw.split_at(i + 3),
        None => ("", raw),
    };
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(auth_end);
    match authority.rfind('@') {
        Some(at) => format!("{scheme}***@{}{tail}", &authority[at + 1..]),
        None => raw.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_values_after_secret_keys() {
        let cases = [
            ("password=hunter2 ok", "password=<redacted> ok"),
            (
                r#"{"admin_password":"pw-1","x":1}"#,
                r#"{"admin_password":"<redacted>","x":1}"#,
            ),
            (
                "Authorization: Bearer abc.def",
                "Authorization: Bearer <redacted>",
            ),
            ("token secret", "token secret"),
            ("Bearer abc", "Bearer <redacted>"),
            ("password: 'hunter2'", "password: '<redacted>'"),
            ("no secrets here", "no secrets here"),
            ("password", "password"),
        ];
        for (input, want) in cases {
            assert_eq!(redact(input, &[]), want, "{input}");
        }
    }

    #[test]
    fn masks_known_secrets_and_bounds_length() {
        assert_eq!(redact("x tok-123 y", &["tok-123"]), "x <redacted> y");
        let long = redact(&"é".repeat(10_000), &[]);
        assert!(long.chars().count() < MAX_TEXT + 20);
        assert!(long.ends_with("(truncated)"));
    }

    #[test]
    fn endpoint_credentials_are_hidden() {
        assert_eq!(endpoint("http://u:p@h:1/x?y"), "http://***@h:1/x?y");
        assert_eq!(endpoint("http://h:1/a@b"), "http://h:1/a@b");
        assert_eq!(endpoint("u:p@h"), "***@h");
        assert_eq!(endpoint("http://h"), "http://h");
    }

    #[test]
    fn finds_passwords_in_request_bodies() {
        let got =
            secrets_in_json(br#"{"name":"a","admin_password":"pw","backup":{"secret_key":"s"}}"#);
        assert_eq!(got, vec!["pw".to_string(), "s".to_string()]);
    }
}
