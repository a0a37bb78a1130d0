resource "clouddb_instance" "example" {
  name = "orders-db"
}

# A backup taken before a risky change. It belongs to the project and outlives the instance;
# destroying this resource deletes it.
resource "clouddb_backup" "before_upgrade" {
  instance    = clouddb_instance.example.name # replaces the backup when changed
  name        = "orders-db-before-upgrade"    # optional: the API generates one when unset
  description = "Before the 8.4 upgrade"      # replaces the backup when changed

  timeouts {
    create = "30m" # how long to wait while the instance is busy
    delete = "10m"
  }
}

output "backup_size_bytes" {
  value = clouddb_backup.before_upgrade.size_bytes
}
