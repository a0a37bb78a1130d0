#!/usr/bin/env bash
# Databases are imported as INSTANCE/NAME.
terraform import clouddb_database.orders shop-db/orders
