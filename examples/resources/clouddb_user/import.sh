#!/usr/bin/env bash
# Users are imported as INSTANCE/NAME. The API never returns a password: after an
# import, password and password_wo are unset, and the next apply that sets one
# (or bumps password_wo_version) sends it.
terraform import clouddb_user.app shop-db/app
