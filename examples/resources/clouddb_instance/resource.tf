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
