"""archiver-dagster: archives SciCat datasets to long-term storage with Dagster."""
