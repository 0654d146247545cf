"""What was archived and how it is checked: shared by archival, which records it, and retrieval.

`members`: what a datablock holds, as packed or as SciCat registered it. `tar_checksums`: the
whole-tar checksums, recorded on the asset that registers the datablocks and read back by later
runs. `read_retries`: how a failed read-back from the LTS is retried or failed. Imports neither
`archival` nor `retrieval`.
"""
