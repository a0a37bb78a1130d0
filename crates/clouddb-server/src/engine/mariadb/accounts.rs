//! Users, their grants, and the access rules as the accounts they stand for.
//!
//! An API user `u` is a set of MariaDB accounts with one password and one set of grants:
//! `'u'@'localhost'` (the Unix socket: with `skip-name-resolve`, no TCP client is `localhost`)
//! and `'u'@'<pattern>'` for each host pattern of the rules in force ([`super::hosts`]). The
//! localhost account is the user's reference: when the rules change, new accounts are cloned
//! from it (its `SHOW CREATE USER` and `SHOW GRANTS`, so the password hash and every grant,
//! including those an admin gave in SQL, carry over) and accounts of patterns no longer allowed
//! are dropped.
//!
//! Roles: `readonly` = SELECT on `*.*`; `readwrite` = SELECT, INSERT, UPDATE, DELETE, CREATE, INDEX on
//! `*.*` (an application creates its own tables, as on PostgreSQL; MariaDB has no table owners, so
//! it cannot be kept from others' tables);
//! `admin` = ALL PRIVILEGES on `*.*` WITH GRANT OPTION (in MariaDB that includes SUPER: the admin
//! is as strong as the engine allows a user to be); any other name is a MariaDB role (CREATE ROLE
//! IF NOT EXISTS, no privileges of its own) granted to every account of the user. MariaDB has one
//! default role per account: the first named role in the API's order is it; further named roles
//! are granted but need `SET ROLE` in a session.
//!
//! Managed users are those with a localhost account, except the engine's own (`root`,
//! `mariadb.sys`, `mysql`, the OS user that the driver connects as). An account an admin creates
//! in SQL for a host other than localhost, without a localhost account, is left alone.

use std::collections::{BTreeMap, BTreeSet};

use super::programs::Identity;
use super::sql::{Client, account, ident, literal, shown_account};
use crate::engine::{EngineError, Role, UserSpec};

const LOCALHOST: &str = "localhost";
const ENGINE_USERS: [&str; 3] = ["root", "mysql", "mariadb.sys"];
/// Names MariaDB keeps for itself in role statements.
const ROLE_KEYWORDS: [&str; 2] = ["public", "none"];

/// Whether `name` is one of the engine's own users, which the driver never changes.
fn reserved(name: &str, id: &Identity) -> bool {
    ENGINE_USERS.contains(&name) || name == id.user
}

pub(super) fn check_user_name(name: &str, id: &Identity) -> Result<(), EngineError> {
    if name.is_empty() || name.contains('\0') {
        return Err(EngineError::Other(format!("{name:?} is not a user name")));
    }
    if reserved(name, id) {
        return Err(EngineError::Other(format!(
            "the user name {name} is reserved by the MariaDB engine"
        )));
    }
    Ok(())
}

fn check_role_name(name: &str) -> Result<(), EngineError> {
    if name.is_empty()
        || name.contains('\0')
        || ROLE_KEYWORDS.contains(&name.to_ascii_lowercase().as_str())
    {
        return Err(EngineError::Other(format!(
            "{name:?} cannot be a MariaDB role name"
        )));
    }
    Ok(())
}

/// Global privileges for the built-in roles (the strongest one wins), and whether they come
/// WITH GRANT OPTION.
fn privileges(roles: &[Role]) -> Option<(&'static str, bool)> {
    if roles.contains(&Role::Admin) {
        Some(("ALL PRIVILEGES", true))
    } else if roles.contains(&Role::ReadWrite) {
        Some(("SELECT, INSERT, UPDATE, DELETE, CREATE, INDEX", false))
    } else if roles.contains(&Role::ReadOnly) {
        Some(("SELECT", false))
    } else {
        None
    }
}

fn named_roles(roles: &[Role]) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for r in roles {
        if let Role::Named(n) = r
            && !out.contains(&n.as_str())
        {
            out.push(n);
        }
    }
    out
}

/// The hosts of every account (not role) of `user`.
fn hosts_of(client: &Client<'_>, user: &str) -> Result<Vec<String>, EngineError> {
    let rows = client.query(&format!(
        "SELECT Host FROM mysql.user WHERE User = {} AND is_role = 'N' ORDER BY Host",
        literal(user)
    ))?;
    Ok(rows
        .into_iter()
        .filter_map(|r| r.into_iter().next())
        .collect())
}

/// Every managed user with the hosts of its accounts.
pub(super) fn managed_users(
    client: &Client<'_>,
    id: &Identity,
) -> Result<BTreeMap<String, BTreeSet<String>>, EngineError> {
    let rows = client.query("SELECT User, Host FROM mysql.user WHERE is_role = 'N'")?;
    let mut all: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in rows {
        if let [user, host] = r.as_slice() {
            all.entry(user.clone()).or_default().insert(host.clone());
        }
    }
    all.retain(|user, hosts| !reserved(user, id) && hosts.contains(LOCALHOST));
    Ok(all)
}

/// Creates `user` or brings it to the spec: its accounts are localhost plus `patterns`, with the
/// password (when given) and exactly the grants of its roles.
pub(super) fn upsert(
    client: &Client<'_>,
    id: &Identity,
    user: &UserSpec,
    patterns: &BTreeSet<String>,
) -> Result<(), EngineError> {
    check_user_name(&user.name, id)?;
    let roles = named_roles(&user.roles);
    for r in &roles {
        check_role_name(r)?;
    }
    let name = user.name.as_str();
    let existing = hosts_of(client, name)?;
    let mut desired: Vec<&str> = vec![LOCALHOST];
    desired.extend(patterns.iter().map(String::as_str));

    let mut sql = String::new();
    for r in &roles {
        sql.push_str(&format!("CREATE ROLE IF NOT EXISTS {};\n", ident(r)));
    }
    match &user.password {
        Some(pw) => {
            for h in &desired {
                let a = account(name, h);
                let pw = literal(pw);
                sql.push_str(&format!(
                    "CREATE USER IF NOT EXISTS {a} IDENTIFIED BY {pw};\nALTER USER {a} IDENTIFIED BY {pw};\n"
                ));
            }
        }
        None => {
            let auth = auth_clause(client, name, &existing)?;
            for h in desired.iter().filter(|h| !existing.iter().any(|e| e == *h)) {
                sql.push_str(&format!(
                    "CREATE USER IF NOT EXISTS {}{auth};\n",
                    account(name, h)
                ));
            }
        }
    }
    for h in existing.iter().filter(|e| !desired.contains(&e.as_str())) {
        sql.push_str(&format!("DROP USER IF EXISTS {};\n", account(name, h)));
    }
    let granted = granted_roles(client, name)?;
    for h in &desired {
        let a = account(name, h);
        sql.push_str(&format!("REVOKE ALL PRIVILEGES, GRANT OPTION FROM {a};\n"));
        for (_, role) in granted
            .iter()
            .filter(|(gh, r)| gh == h && !roles.contains(&r.as_str()))
        {
            sql.push_str(&format!("REVOKE {} FROM {a};\n", ident(role)));
        }
        if let Some((privs, grant_option)) = privileges(&user.roles) {
            let with = if grant_option {
                " WITH GRANT OPTION"
            } else {
                ""
            };
            sql.push_str(&format!("GRANT {privs} ON *.* TO {a}{with};\n"));
        }
        for r in &roles {
            sql.push_str(&format!("GRANT {} TO {a};\n", ident(r)));
        }
        match roles.first() {
            Some(r) => sql.push_str(&format!("SET DEFAULT ROLE {} FOR {a};\n", ident(r))),
            None => sql.push_str(&format!("SET DEFAULT ROLE NONE FOR {a};\n")),
        }
    }
    sql.push_str("FLUSH PRIVILEGES;\n");
    let secrets: Vec<&str> = user.password.as_deref().into_iter().collect();
    client.query_secret(&sql, &secrets).map(drop)
}

/// ` IDENTIFIED VIA plugin USING 'hash'` copied from an existing account of `user` (localhost
/// first); for a user with no account and no password, a hash that no password matches
/// (an account nobody can log in to until a password is set).
fn auth_clause(
    client: &Client<'_>,
    user: &str,
    existing: &[String],
) -> Result<String, EngineError> {
    let source = existing
        .iter()
        .find(|h| *h == LOCALHOST)
        .or_else(|| existing.first());
    let Some(host) = source else {
        return Ok(" IDENTIFIED VIA mysql_native_password USING 'invalid'".into());
    };
    let rows = client.query(&format!(
        "SELECT plugin, authentication_string FROM mysql.user WHERE User = {} AND Host = {}",
        literal(user),
        literal(host)
    ))?;
    match rows.first().map(Vec::as_slice) {
        Some([plugin, auth]) if !plugin.is_empty() => Ok(format!(
            " IDENTIFIED VIA {} USING {}",
            ident(plugin),
            literal(auth)
        )),
        Some([_, _]) => Ok(String::new()),
        _ => Err(EngineError::Other(format!(
            "the account {user}@{host} vanished while it was being copied"
        ))),
    }
}

/// (account host, role) of every role granted to `user`'s accounts.
fn granted_roles(client: &Client<'_>, user: &str) -> Result<Vec<(String, String)>, EngineError> {
    let rows = client.query(&format!(
        "SELECT Host, Role FROM mysql.roles_mapping WHERE User = {}",
        literal(user)
    ))?;
    Ok(rows
        .into_iter()
        .filter_map(|r| match r.as_slice() {
            [h, role] => Some((h.clone(), role.clone())),
            _ => None,
        })
        .collect())
}

/// Drops every account of `name`; Ok when it has none.
pub(super) fn drop_user(client: &Client<'_>, id: &Identity, name: &str) -> Result<(), EngineError> {
    check_user_name(name, id)?;
    let hosts = hosts_of(client, name)?;
    if hosts.is_empty() {
        return Ok(());
    }
    let mut sql = String::new();
    for h in &hosts {
        sql.push_str(&format!("DROP USER IF EXISTS {};\n", account(name, h)));
    }
    client.query(&sql).map(drop)
}

/// Sets the password of every account of `name`.
pub(super) fn set_password(
    client: &Client<'_>,
    id: &Identity,
    name: &str,
    password: &str,
) -> Result<(), EngineError> {
    check_user_name(name, id)?;
    let hosts = hosts_of(client, name)?;
    if hosts.is_empty() {
        return Err(EngineError::Other(format!(
            "the MariaDB user {name} does not exist"
        )));
    }
    let mut sql = String::new();
    for h in &hosts {
        sql.push_str(&format!(
            "ALTER USER {} IDENTIFIED BY {};\n",
            account(name, h),
            literal(password)
        ));
    }
    sql.push_str("FLUSH PRIVILEGES;\n");
    client.query_secret(&sql, &[password]).map(drop)
}

/// Brings every managed user to exactly the accounts localhost + `patterns`.
pub(super) fn reconcile(
    client: &Client<'_>,
    id: &Identity,
    patterns: &BTreeSet<String>,
) -> Result<(), EngineError> {
    let mut sql = String::new();
    for (user, hosts) in managed_users(client, id)? {
        for h in hosts
            .iter()
            .filter(|h| *h != LOCALHOST && !patterns.contains(*h))
        {
            sql.push_str(&format!("DROP USER IF EXISTS {};\n", account(&user, h)));
        }
        let missing: Vec<&String> = patterns.iter().filter(|p| !hosts.contains(*p)).collect();
        if missing.is_empty() {
            continue;
        }
        let shown = show_account(client, &user, LOCALHOST)?;
        for h in missing {
            for stmt in shown.for_account(&account(&user, h))? {
                sql.push_str(&stmt);
                sql.push_str(";\n");
            }
        }
    }
    sql.push_str("FLUSH PRIVILEGES;\n");
    client.query(&sql).map(drop)
}

/// What the server shows of one account: its CREATE USER and its grants.
#[derive(Debug, Clone)]
pub(super) struct ShownAccount {
    /// As shown, e.g. `` `u`@`localhost` ``.
    shown: String,
    pub create: String,
    pub grants: Vec<String>,
}

pub(super) fn show_account(
    client: &Client<'_>,
    user: &str,
    host: &str,
) -> Result<ShownAccount, EngineError> {
    let a = account(user, host);
    let rows = client.query(&format!("SHOW CREATE USER {a};\nSHOW GRANTS FOR {a};"))?;
    let mut lines = rows.into_iter().filter_map(|r| r.into_iter().next());
    let create = lines
        .next()
        .ok_or_else(|| EngineError::Other(format!("SHOW CREATE USER {a} printed nothing")))?;
    Ok(ShownAccount {
        shown: shown_account(user, host),
        create,
        grants: lines.collect(),
    })
}

impl ShownAccount {
    /// The statements that give `target` (a quoted account) the same password, limits and
    /// grants: the shown ones with the account replaced. CREATE OR REPLACE, so a replay after a
    /// crash redoes it.
    pub fn for_account(&self, target: &str) -> Result<Vec<String>, EngineError> {
        let create_prefix = format!("CREATE USER {}", self.shown);
        let rest = self.create.strip_prefix(&create_prefix).ok_or_else(|| {
            EngineError::Other(format!(
                "unexpected SHOW CREATE USER output: {}",
                self.create
            ))
        })?;
        let mut out = vec![format!("CREATE OR REPLACE USER {target}{rest}")];
        for g in &self.grants {
            out.push(self.retarget(g, target)?);
        }
        Ok(out)
    }

    /// The statements as shown, with CREATE OR REPLACE (a dump).
    pub fn as_shown(&self) -> Result<Vec<String>, EngineError> {
        self.for_account(&self.shown)
    }

    /// `GRANT … TO <acct>…` / `SET DEFAULT ROLE r FOR <acct>` with the last mention of the
    /// account (the grantee: a grant's object comes before it) replaced.
    fn retarget(&self, stmt: &str, target: &str) -> Result<String, EngineError> {
        for keyword in [" TO ", " FOR "] {
            let needle = format!("{keyword}{}", self.shown);
            if let Some(pos) = stmt.rfind(&needle) {
                return Ok(format!(
                    "{}{keyword}{target}{}",
                    &stmt[..pos],
                    &stmt[pos + needle.len()..]
                ));
            }
        }
        Err(EngineError::Other(format!(
            "unexpected SHOW GRANTS line: {stmt}"
        )))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn shown() -> ShownAccount {
        ShownAccount {
            shown: "`app`@`localhost`".into(),
            create: "CREATE USER `app`@`localhost` IDENTIFIED BY PASSWORD '*ABC'".into(),
            grants: vec![
                "GRANT `r1` TO `app`@`localhost`".into(),
                "GRANT SELECT ON *.* TO `app`@`localhost` IDENTIFIED BY PASSWORD '*ABC'".into(),
                "SET DEFAULT ROLE `r1` FOR `app`@`localhost`".into(),
            ],
        }
    }

    #[test]
    fn an_account_is_cloned_with_its_password_and_grants() {
        let got = shown().for_account("'app'@'10.0.0.0/255.0.0.0'").unwrap();
        assert_eq!(
            got,
            [
                "CREATE OR REPLACE USER 'app'@'10.0.0.0/255.0.0.0' IDENTIFIED BY PASSWORD '*ABC'",
                "GRANT `r1` TO 'app'@'10.0.0.0/255.0.0.0'",
                "GRANT SELECT ON *.* TO 'app'@'10.0.0.0/255.0.0.0' IDENTIFIED BY PASSWORD '*ABC'",
                "SET DEFAULT ROLE `r1` FOR 'app'@'10.0.0.0/255.0.0.0'",
            ]
        );
    }

    #[test]
    fn roles_map_to_the_strongest_privileges_and_named_roles_keep_their_order() {
        assert_eq!(privileges(&[Role::ReadOnly]), Some(("SELECT", false)));
        assert_eq!(
            privileges(&[Role::ReadOnly, Role::ReadWrite]),
            Some(("SELECT, INSERT, UPDATE, DELETE, CREATE, INDEX", false))
        );
        assert_eq!(privileges(&[Role::Admin]), Some(("ALL PRIVILEGES", true)));
        let roles = [
            Role::Named("b".into()),
            Role::ReadOnly,
            Role::Named("a".into()),
            Role::Named("b".into()),
        ];
        assert_eq!(privileges(&[Role::Named("x".into())]), None);
        assert_eq!(named_roles(&roles), ["b", "a"]);
    }

    #[test]
    fn engine_users_and_role_keywords_are_refused() {
        let id = Identity {
            root: true,
            user: "root".into(),
        };
        assert!(check_user_name("root", &id).is_err());
        assert!(check_user_name("mariadb.sys", &id).is_err());
        assert!(check_user_name("app", &id).is_ok());
        assert!(check_role_name("PUBLIC").is_err());
        assert!(check_role_name("analyst").is_ok());
    }
}
