-- 0001: initial schema. Every row keeps its record as JSON in `body`; key columns are for lookups.
-- Never edit an applied migration; add a new numbered file instead.
CREATE TABLE IF NOT EXISTS instances (
    project TEXT NOT NULL,
    name    TEXT NOT NULL,
    body    TEXT NOT NULL,
    PRIMARY KEY (project, name)
);
CREATE TABLE IF NOT EXISTS operations (
    id   TEXT PRIMARY KEY,
    done INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS children (
    project  TEXT NOT NULL,
    instance TEXT NOT NULL,
    kind     TEXT NOT NULL,
    name     TEXT NOT NULL,
    body     TEXT NOT NULL,
    PRIMARY KEY (project, instance, kind, name)
);
CREATE TABLE IF NOT EXISTS backups (
    project TEXT NOT NULL,
    name    TEXT NOT NULL,
    body    TEXT NOT NULL,
    PRIMARY KEY (project, name)
);
CREATE TABLE IF NOT EXISTS idempotency (
    scope TEXT NOT NULL,
    key   TEXT NOT NULL,
    body  TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
