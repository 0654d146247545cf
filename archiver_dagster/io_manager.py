"""Stores asset values (pydantic manifests) as JSON files named by `local_name(partition key)`.

Dagster's default filesystem IO manager turns a `/` in a partition key into sub-folders, so the
value of PID `p` would be destroyed by PID `p/q`, and a long key would exceed a file name's 255
bytes. `local_name` encodes the key whole, bounded and readable, one name per key. The outputs
fanned out per datablock stay with Dagster's default IO manager, under mapping keys that never
contain a PID (`mapping_key`).
"""

from pathlib import Path
from typing import Any

from dagster import (
    ConfigurableIOManagerFactory,
    InitResourceContext,
    InputContext,
    IOManager,
    OutputContext,
)
from pydantic import BaseModel, Field, TypeAdapter

from archiver_dagster.storage.local_names import local_name

# Resource key of the manifests' IO manager, named by the assets that store their values with it.
MANIFEST_IO_MANAGER = "manifest_io_manager"


def mapping_key(index: int) -> str:
    """Dynamic mapping key of datablock `index` (never built from a PID or a file name)."""
    return f"datablock_{index}"


class JsonManifestIOManager(IOManager):
    """Writes each asset partition's manifest to `{base_dir}/{asset}/{encoded key}.json`."""

    def __init__(self, base_dir: Path) -> None:
        self.base_dir = base_dir

    def path_for(self, context: InputContext | OutputContext) -> Path:
        """Where the asset partition's manifest is stored."""
        has_key = context.has_asset_partitions
        name = local_name(context.asset_partition_key) if has_key else "_"
        return self.base_dir.joinpath(*context.asset_key.path, f"{name}.json")

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        """Writes the manifest atomically."""
        if obj is None:
            return
        path = self.path_for(context)
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(obj, BaseModel):
            payload = obj.model_dump_json(indent=1)
        else:
            payload = TypeAdapter(type(obj)).dump_json(obj).decode()
        partial = path.with_name(path.name + ".partial")
        partial.write_text(payload, encoding="utf-8")
        partial.replace(path)

    def load_input(self, context: InputContext) -> Any:
        """Reads the manifest back as the type the consuming op declares."""
        text = self.path_for(context).read_text(encoding="utf-8")
        return TypeAdapter(context.dagster_type.typing_type).validate_json(text)


class JsonManifestIOManagerFactory(ConfigurableIOManagerFactory):
    """Manifests under `base_dir`, by default the instance's storage folder."""

    base_dir: str | None = Field(
        default=None, description="Folder for manifests (default: <instance storage>/manifests)."
    )

    def create_io_manager(self, context: InitResourceContext) -> JsonManifestIOManager:
        """Builds the IO manager, resolving the default folder from the instance."""
        if self.base_dir:
            return JsonManifestIOManager(Path(self.base_dir))
        if context.instance is None:
            raise ValueError("JsonManifestIOManagerFactory needs base_dir or a Dagster instance")
        return JsonManifestIOManager(Path(context.instance.storage_directory()) / "manifests")
