"""An in-memory SciCat for unit tests: the simulator's backend behind the archiver's own client."""

from devstack.scicat_fake.fake import FAKE_ENDPOINT, FakeSciCatClient, SciCatFake
from devstack.scicat_fake.operations import OPERATIONS, Call
from devstack.scicat_fake.resource import FakeSciCatResource

__all__ = [
    "FAKE_ENDPOINT",
    "OPERATIONS",
    "Call",
    "FakeSciCatClient",
    "FakeSciCatResource",
    "SciCatFake",
]
