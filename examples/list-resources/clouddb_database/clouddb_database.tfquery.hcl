# Every database of the instance "orders-db"; `terraform query -generate-config-out=generated.tf`
# writes an import block and a resource block for each.
list "clouddb_database" "orders_db" {
  provider = clouddb

  config {
    instance = "orders-db"
  }
}
