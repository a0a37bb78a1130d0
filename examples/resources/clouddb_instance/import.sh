#!/usr/bin/env bash
# Instances are imported by name.
terraform import clouddb_instance.example orders-db
