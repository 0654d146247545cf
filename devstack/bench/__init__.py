"""End-to-end benchmark of the archival data path (`python -m devstack.bench`)."""
