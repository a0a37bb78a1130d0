# terraform >= 1.8: provider functions need Terraform 1.8 or later.
resource "clouddb_instance" "orders" {
  name   = "orders-db"
  engine = "postgres"
}

# "postgresql://app@orders-db.<project>.clouddb.internal:5432/orders", known once the
# instance exists. No password goes into the URI: pass it to the client separately.
output "orders_uri" {
  value = provider::clouddb::connection_uri(
    clouddb_instance.orders.engine,
    clouddb_instance.orders.endpoint_host,
    clouddb_instance.orders.endpoint_port,
    "orders",
    "app",
  )
}

# User and database names are percent-encoded, IPv6 hosts bracketed:
# "mysql://report%40ops@[2001:db8::10]:3306/sales%202024"
output "reporting_uri" {
  value = provider::clouddb::connection_uri("mysql", "2001:db8::10", 3306, "sales 2024", "report@ops")
}
