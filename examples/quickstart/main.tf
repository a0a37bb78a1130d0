# Quickstart: two CloudDB instances against a local clouddb-server.
#
# The provider reads its settings from the environment:
#   CLOUDDB_ENDPOINT  e.g. http://127.0.0.1:8080
#   CLOUDDB_TOKEN     bearer token
#   CLOUDDB_PROJECT   project the token belongs to
# scripts/quickstart.sh sets them, starts the server and runs init + apply.

terraform {
  required_providers {
    clouddb = {
      source  = "clouddb/clouddb"
      version = "~> 0.1"
    }
  }
}

provider "clouddb" {}

resource "clouddb_instance" "app" {
  name       = "quickstart-app"
  engine     = "postgres"
  tier       = "db-small"
  storage_gb = 20

  labels = {
    env = "quickstart"
    app = "web"
  }

  backup = {
    enabled        = true
    start_time     = "03:00"
    retention_days = 7
  }
}

resource "clouddb_instance" "analytics" {
  name              = "quickstart-analytics"
  engine            = "mysql"
  engine_version    = "8.0"
  tier              = "db-standard-2"
  storage_gb        = 50
  high_availability = true

  labels = {
    env = "quickstart"
    app = "analytics"
  }
}

output "app_endpoint" {
  description = "host:port of the postgres instance"
  value       = "${clouddb_instance.app.endpoint_host}:${clouddb_instance.app.endpoint_port}"
}

output "analytics_endpoint" {
  description = "host:port of the mysql instance"
  value       = "${clouddb_instance.analytics.endpoint_host}:${clouddb_instance.analytics.endpoint_port}"
}

output "versions" {
  description = "engine versions the server actually runs"
  value = {
    app       = clouddb_instance.app.engine_version_actual
    analytics = clouddb_instance.analytics.engine_version_actual
  }
}
