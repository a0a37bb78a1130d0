# Seed: the smallest useful configuration, one instance by name (the original SDK example).
# Everything else has a default: engine mysql (its default version), tier db-small and
# 20 GB of storage.
#
# The provider reads its settings from the environment:
#   CLOUDDB_ENDPOINT  e.g. http://127.0.0.1:8080
#   CLOUDDB_TOKEN     bearer token
#   CLOUDDB_PROJECT   project the token belongs to

terraform {
  required_providers {
    clouddb = {
      source  = "clouddb/clouddb"
      version = "~> 0.1"
    }
  }
}

provider "clouddb" {}

resource "clouddb_instance" "db" {
  name = "orders"
}
