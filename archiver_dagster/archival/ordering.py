"""Step priorities that run a dataset's datablocks as a pipeline (docs/architecture.md, 71).

Every executor starts the ready step of highest `dagster/priority` first. A packed tar's
reservation and LTS copy outrank packing the next tar, so a tar leaves scratch as soon as the
LTS can take it; read-backs rank last, so they never hold back a copy or the next pack (and the
in-process executor, one step at a time, sleeps out the settle wait once, after the copies).
Pools also serve waiting claims by priority, but each of `lts_free_space` and `lts_write` is
claimed by one op only, so their order across runs is unchanged. Without scratch (decision 72)
the pack is the LTS write (`pack_onto_lts`, COPY) and its reservation (RESERVE) comes first, so
a datablock's space is taken just before it is packed, not all datablocks' at the start.
"""

PRIORITY_TAG = "dagster/priority"

# Read-backs keep Dagster's default (0): in the `lts_read` pool, whose claims are also served
# by priority, they rank as retrieval's reads do.
READ_BACK = 0
PACK = 1
RESERVE = 2
COPY = 3


def priority(level: int) -> dict[str, str]:
    """The op tags that give its steps `level`."""
    return {PRIORITY_TAG: str(level)}
