#!/usr/bin/env bash
# Validates the configuration, naming every missing or invalid variable, then runs the command:
# the code location server, the pools step, the webserver, the daemon or a run
# (docs/operations.md, "Deploying"). The pool limits are applied by the pools step alone
# (`archiver-dagster apply-pools`: the compose file's `pools` service, the Helm chart's init
# container), so that a run starting never resets a limit changed in the UI.
set -euo pipefail
archiver-dagster check-config
exec "$@"
