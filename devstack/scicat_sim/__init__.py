"""A strict SciCat backend simulator (HTTP, stdlib server, pydantic DTOs) for tests and demos."""

from devstack.scicat_sim.recording import RecordedRequest
from devstack.scicat_sim.simulator import SciCatSimulator

__all__ = ["RecordedRequest", "SciCatSimulator"]
