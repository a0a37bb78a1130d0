# An instance managed elsewhere (another configuration, or by hand), read by name.
data "clouddb_instance" "orders" {
  name = "orders-db"
}

output "orders_endpoint" {
  value = "${data.clouddb_instance.orders.endpoint_host}:${data.clouddb_instance.orders.endpoint_port}"
}
