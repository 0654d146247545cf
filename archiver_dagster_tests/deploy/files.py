"""Where the deployment files are."""

from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
DEPLOY = REPOSITORY / "deploy"
