#!/usr/bin/env bash
# Validates the configuration and applies the pool limits to the instance, then runs the command
# (a code server, the webserver or the daemon; see docs/operations.md).
set -euo pipefail
archiver-dagster check-config
archiver-dagster apply-pools
exec "$@"
