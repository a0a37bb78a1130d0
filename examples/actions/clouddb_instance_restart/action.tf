# terraform >= 1.14
# Run with: terraform apply -invoke=action.clouddb_instance_restart.orders
action "clouddb_instance_restart" "orders" {
  config {
    instance = "orders-db"
  }
}
