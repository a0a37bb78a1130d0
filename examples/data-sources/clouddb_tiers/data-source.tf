data "clouddb_tiers" "all" {}

# Tiers with at least 8 GB of memory, in the API's order (smallest first).
locals {
  big_enough = [for t in data.clouddb_tiers.all.tiers : t if t.memory_gb >= 8]
}

output "tier_for_8gb" {
  value = local.big_enough[0].name
}
