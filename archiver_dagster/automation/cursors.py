"""Sensor cursors as small pydantic models serialised to JSON."""

from typing import Self

from pydantic import BaseModel, ValidationError


class JsonCursor(BaseModel):
    """A sensor cursor; an empty or unreadable one means a fresh start."""

    @classmethod
    def parse(cls, raw: str | None) -> Self:
        """Reads the cursor Dagster stored for the sensor."""
        if not raw:
            return cls()
        try:
            return cls.model_validate_json(raw)
        except ValidationError:
            return cls()
