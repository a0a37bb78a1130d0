resource "clouddb_instance" "example" {
  name           = "orders-db"
  engine         = "postgres" # replaces the instance when changed
  engine_version = "16"       # minor upgrades in place; majors need allow_major_version_upgrade
  tier           = "db-standard-2"
  storage_gb     = 100 # may grow in place, never shrink

  high_availability   = true
  admin_username      = "dbadmin"
  admin_password      = var.admin_password
  deletion_protection = true

  labels = {
    team = "orders"
  }

  backup = {
    enabled        = true
    start_time     = "02:30" # UTC
    retention_days = 14
  }

  # Used only when the instance is destroyed.
  skip_final_backup = false
  final_backup_name = "orders-db-final"

  timeouts {
    create = "45m"
    update = "60m"
    delete = "30m"
  }
}

variable "admin_password" {
  type      = string
  sensitive = true
}

output "orders_db_endpoint" {
  value = "${clouddb_instance.example.endpoint_host}:${clouddb_instance.example.endpoint_port}"
}

# Restoring a backup into a new instance: engine and engine_version come from the
# backup (the plan shows them when the backup exists), and the instance starts with
# the databases and users the source had when the backup was taken.
#
# resource "clouddb_instance" "restored" {
#   name                = "orders-db-copy"
#   restore_from_backup = "orders-db-final"
#   storage_gb          = 100 # at least the source's
# }

# A password that never reaches state or plans (Terraform 1.11 or later): pass it
# through an ephemeral variable, and bump the version to send a new one.
#
# variable "admin_password" {
#   type      = string
#   ephemeral = true
# }
#
# resource "clouddb_instance" "example" {
#   ...
#   admin_password_wo         = var.admin_password
#   admin_password_wo_version = 1
# }
