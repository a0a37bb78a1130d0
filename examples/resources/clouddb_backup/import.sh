#!/usr/bin/env bash
# Backups are imported by name: they belong to the project, not to an instance.
# Final backups (type FINAL) can be imported too. timeouts live only in Terraform.
terraform import clouddb_backup.before_upgrade orders-db-before-upgrade
