# The backups of the instance "orders-db", also after the instance was deleted; leave the
# config block out to list every backup of the project.
list "clouddb_backup" "orders_db" {
  provider = clouddb

  config {
    instance = "orders-db"
  }
}
