"""Fixity over the years: asset checks, the audit schedule, the audit trail and alerts.

`copies` re-reads a dataset's LTS copies and compares SciCat, the LTS and the lifecycle (no
Dagster); `checks` are the asset checks on `verified_datablocks`; `trail` records and reads
the dataset's preservation events; `audit_schedule` re-reads every copy once per period;
`alerts` posts to a webhook.
"""
