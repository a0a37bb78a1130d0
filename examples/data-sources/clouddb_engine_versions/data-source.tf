# Pin new instances to the engine's current default version.
data "clouddb_engine_versions" "postgres" {
  engine = "postgres"
}

resource "clouddb_instance" "reports" {
  name           = "reports-db"
  engine         = "postgres"
  engine_version = data.clouddb_engine_versions.postgres.default_version
}
