#!/usr/bin/env bash
# Firewall rules are imported as INSTANCE/NAME.
terraform import clouddb_firewall_rule.office shop-db/office
