# terraform >= 1.14
# Needs an instance with high_availability = true.
# Run with: terraform apply -invoke=action.clouddb_instance_failover.orders
action "clouddb_instance_failover" "orders" {
  config {
    instance = "orders-db"
  }
}
