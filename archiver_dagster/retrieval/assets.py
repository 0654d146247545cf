"""`retrieved_datablocks`: a dataset's datablocks back in the retrieval bucket, verified."""

from dagster import AssetIn, Nothing, graph_asset

from archiver_dagster.partitions import datasets_partitions
from archiver_dagster.retrieval.manifests import RetrievedDatablocksManifest
from archiver_dagster.retrieval.ops import plan_retrieval, publish_retrieval, retrieve_datablock

RETRIEVAL_GROUP = "retrieval"


@graph_asset(
    partitions_def=datasets_partitions,
    group_name=RETRIEVAL_GROUP,
    # Lineage only: retrieval reads what SciCat registered, not the archival run's manifest,
    # so datasets archived by another deployment (or the reference archiver) come back too.
    ins={"lts_datablocks": AssetIn(dagster_type=Nothing)},
    kinds={"s3", "lts"},
)
def retrieved_datablocks(lts_datablocks: None) -> RetrievedDatablocksManifest:
    """Each datablock read back from the LTS, verified and put in the retrieval bucket."""
    retrieved = plan_retrieval(lts_datablocks=lts_datablocks).map(retrieve_datablock)
    return publish_retrieval(retrieved.collect())


retrieval_assets = [retrieved_datablocks]
