-- 0003: the real engine server behind an instance (`--engines real`): its directories, loopback
-- port and tier settings, as JSON in `body`, so a restarted clouddb-server finds and restarts (or
-- adopts) every engine it started. A row outlives its instance record while the instance's
-- directory is being removed; the simulated backend never writes one.
CREATE TABLE IF NOT EXISTS engines (
    project TEXT NOT NULL,
    name    TEXT NOT NULL,
    body    TEXT NOT NULL,
    PRIMARY KEY (project, name)
);
