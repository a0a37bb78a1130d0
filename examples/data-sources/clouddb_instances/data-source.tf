# Every READY PostgreSQL instance of the team "payments" in production.
data "clouddb_instances" "payments" {
  engine = "postgres"
  state  = "READY"
  labels = {
    team = "payments"
    env  = "prod"
  }
}

output "payments_endpoints" {
  value = { for i in data.clouddb_instances.payments.instances : i.name => "${i.endpoint_host}:${i.endpoint_port}" }
}
