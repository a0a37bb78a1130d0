# terraform >= 1.8: provider functions need Terraform 1.8 or later.
locals {
  # { vcpus = 4, memory_gb = 16, max_storage_gb = 4000 }
  analytics_tier = provider::clouddb::parse_tier("db-standard-4")
}

# The largest disk the tier allows.
resource "clouddb_instance" "analytics" {
  name       = "analytics-db"
  tier       = "db-standard-4"
  storage_gb = local.analytics_tier.max_storage_gb
}

output "analytics_memory_gb" {
  value = local.analytics_tier.memory_gb
}
