#!/usr/bin/env bash
# Instances are imported by name (or as projects/PROJECT/instances/NAME).
# The API never returns admin_password, and skip_final_backup, final_backup_name,
# allow_major_version_upgrade and timeouts live only in Terraform: if your
# configuration sets any of them, the first apply after an import records them
# (an in-place update that makes no API call). restore_from_backup is read from
# the API (the backup the instance was restored from); admin_password_wo never is.
terraform import clouddb_instance.example orders-db
