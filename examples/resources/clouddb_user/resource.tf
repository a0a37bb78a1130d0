# terraform >= 1.11: write-only arguments (password_wo) need Terraform 1.11 or later.
resource "clouddb_instance" "example" {
  name              = "shop-db"
  engine            = "postgres"
  skip_final_backup = true
}

# The password never reaches state or plan files: it is write-only. Bump
# password_wo_version to send a new one.
resource "clouddb_user" "app" {
  instance            = clouddb_instance.example.name
  name                = "app"
  roles               = ["readwrite"]
  password_wo         = var.app_password
  password_wo_version = 1
}

# On Terraform before 1.11, use `password` instead (kept in state, marked sensitive).
resource "clouddb_user" "reporting" {
  instance = clouddb_instance.example.name
  name     = "reporting"
  roles    = ["readonly"]
}

variable "app_password" {
  type      = string
  sensitive = true
  ephemeral = true
}
