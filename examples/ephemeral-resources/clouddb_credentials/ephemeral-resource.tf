# terraform >= 1.10: ephemeral resources need Terraform 1.10 or later.
resource "clouddb_instance" "app" {
  name              = "app-db"
  engine            = "postgres"
  skip_final_backup = true
}

# A login that exists only while this Terraform command runs: created when a step below
# needs it, renewed while the command runs, revoked at the end. Referencing the instance's
# `id` (known once it exists) makes Terraform open it only after the instance is created.
ephemeral "clouddb_credentials" "migrate" {
  instance = clouddb_instance.app.id
  ttl      = "15m"
}

# Run the schema migrations with it. Provisioners (like provider blocks and write-only
# arguments) may use ephemeral values; nothing of them reaches state or plan files.
resource "terraform_data" "migrations" {
  triggers_replace = [clouddb_instance.app.id]

  provisioner "local-exec" {
    command = "./migrate.sh"
    environment = {
      PGHOST     = clouddb_instance.app.endpoint_host
      PGPORT     = clouddb_instance.app.endpoint_port
      PGUSER     = ephemeral.clouddb_credentials.migrate.username
      PGPASSWORD = ephemeral.clouddb_credentials.migrate.password
    }
  }
}
