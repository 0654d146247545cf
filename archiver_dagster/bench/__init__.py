"""End-to-end benchmark of the archival data path (`python -m archiver_dagster.bench`)."""
