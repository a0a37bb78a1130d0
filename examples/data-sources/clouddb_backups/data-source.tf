# The backups of one instance (final backups of a deleted instance included).
data "clouddb_backups" "orders" {
  instance = "orders-db"
}

output "orders_backup_names" {
  value = [for b in data.clouddb_backups.orders.backups : b.name]
}
