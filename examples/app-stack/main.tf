# terraform >= 1.11: the app user's password is write-only (password_wo).
#
# An application's whole database stack: an instance with two databases, an app user whose
# password never reaches state, a read-only reporting user, a firewall rule for the internal
# network, an on-demand backup, and a second instance restored from that backup.
#
# The provider reads CLOUDDB_ENDPOINT, CLOUDDB_TOKEN and CLOUDDB_PROJECT from the environment;
# pass the password with TF_VAR_app_password (or -var). Destroy removes everything, the backup
# included: both instances set skip_final_backup, so no final backups are kept.

terraform {
  required_version = ">= 1.11"
  required_providers {
    clouddb = {
      source  = "clouddb/clouddb"
      version = "~> 0.1"
    }
  }
}

provider "clouddb" {}

variable "app_password" {
  type      = string
  sensitive = true
  ephemeral = true # never stored: it only feeds the write-only password_wo
}

variable "app_password_version" {
  type    = number
  default = 1 # bump to send a new app_password
}

resource "clouddb_instance" "main" {
  name              = "app-stack-db"
  engine            = "postgres"
  tier              = "db-small"
  storage_gb        = 20
  skip_final_backup = true

  labels = {
    app = "shop"
  }
}

resource "clouddb_database" "orders" {
  instance = clouddb_instance.main.name
  name     = "orders"
}

resource "clouddb_database" "analytics" {
  instance = clouddb_instance.main.name
  name     = "analytics"
}

resource "clouddb_user" "app" {
  instance            = clouddb_instance.main.name
  name                = "app"
  roles               = ["readwrite"]
  password_wo         = var.app_password
  password_wo_version = var.app_password_version
}

resource "clouddb_user" "reporting" {
  instance = clouddb_instance.main.name
  name     = "reporting"
  roles    = ["readonly"]
}

resource "clouddb_firewall_rule" "internal" {
  instance    = clouddb_instance.main.name
  name        = "internal"
  cidr        = "10.0.0.0/8"
  description = "Application servers"
}

# Taken once the databases and users exist, so the restore below gets them too.
resource "clouddb_backup" "baseline" {
  instance    = clouddb_instance.main.name
  name        = "app-stack-baseline"
  description = "Schema baseline"

  depends_on = [
    clouddb_database.orders,
    clouddb_database.analytics,
    clouddb_user.app,
    clouddb_user.reporting,
  ]
}

# Engine and version come from the backup; its databases and users are copied.
resource "clouddb_instance" "restored" {
  name                = "app-stack-restored"
  restore_from_backup = clouddb_backup.baseline.name
  tier                = "db-small"
  storage_gb          = 20
  skip_final_backup   = true
}

output "endpoint" {
  value = "${clouddb_instance.main.endpoint_host}:${clouddb_instance.main.endpoint_port}"
}

output "restored_endpoint" {
  value = "${clouddb_instance.restored.endpoint_host}:${clouddb_instance.restored.endpoint_port}"
}
