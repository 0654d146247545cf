"""`python -m devstack.scale`: the archiver under many datasets, jobs and partitions."""
