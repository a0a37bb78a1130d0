# terraform >= 1.14
# Back up the instance before every in-place change of it.
action "clouddb_backup_now" "before_change" {
  config {
    instance    = "orders-db"
    description = "taken by Terraform before an update"
  }
}

resource "clouddb_instance" "orders" {
  name = "orders-db"
  tier = "db-small"

  lifecycle {
    action_trigger {
      events  = [before_update]
      actions = [action.clouddb_backup_now.before_change]
    }
  }
}
