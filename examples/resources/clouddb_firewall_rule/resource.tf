resource "clouddb_instance" "example" {
  name              = "shop-db"
  skip_final_backup = true
}

resource "clouddb_firewall_rule" "office" {
  instance    = clouddb_instance.example.name
  name        = "office"
  cidr        = "10.0.0.0/8" # IPv4 or IPv6, checked at plan time; changes in place
  description = "Office network"
}
