resource "clouddb_instance" "example" {
  name              = "shop-db"
  engine            = "postgres"
  skip_final_backup = true
}

resource "clouddb_database" "orders" {
  instance = clouddb_instance.example.name # replaces the database when changed
  name     = "orders"                      # replaces the database when changed

  # Optional; unset, they take the engine's defaults (UTF8 / en_US.UTF8 on PostgreSQL).
  charset   = "UTF8"
  collation = "en_US.UTF8"
}
