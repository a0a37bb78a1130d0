# The project's ready PostgreSQL instances labelled team = "data" (every filter must match).
list "clouddb_instance" "data_team" {
  provider = clouddb

  config {
    engine = "postgres"
    labels = { team = "data" }
    state  = "READY"
  }
}

# Any ten instances, with their full state (`terraform query -json` shows it).
list "clouddb_instance" "some" {
  provider         = clouddb
  limit            = 10
  include_resource = true
}
