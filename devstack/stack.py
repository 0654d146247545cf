"""The embedded local stack: SciCat simulator, S3 server, LTS and scratch folders."""

from pathlib import Path

from devstack.lifecycle import StartStop
from devstack.s3_server import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, S3Server
from devstack.scicat_sim import SciCatSimulator

SCICAT_USER = "archiver"
SCICAT_PASSWORD = "archiver-password"
LANDING_ZONE_BUCKET = "landingzone"
RETRIEVAL_BUCKET = "retrieval"
# The buckets the S3 server is started with, and restarted with.
BUCKETS = (LANDING_ZONE_BUCKET, RETRIEVAL_BUCKET)


class LocalStack(StartStop):
    """Everything the archiver talks to, on 127.0.0.1 and under one root folder."""

    def __init__(
        self,
        root: Path,
        scicat_port: int = 0,
        s3_port: int = 0,
        persist_scicat: bool = False,
        jobs_api_prefix: str = "/api/v3",
    ) -> None:
        self.root = root
        self.lts_root = root / "lts"
        self.scratch_root = root / "scratch"
        self.jobs_api_prefix = jobs_api_prefix
        state_file = root / "scicat-state.json" if persist_scicat else None
        self.scicat = SciCatSimulator(
            port=scicat_port, state_file=state_file, users={SCICAT_USER: SCICAT_PASSWORD}
        )
        self.s3 = S3Server(port=s3_port)

    def start(self) -> "LocalStack":
        """Creates the folders and starts both servers (stops what started if one fails)."""
        self.lts_root.mkdir(parents=True, exist_ok=True)
        self.scratch_root.mkdir(parents=True, exist_ok=True)
        try:
            self.scicat.start()
            self.s3.start(buckets=BUCKETS)
        except BaseException:
            self.stop()
            raise
        return self

    def restart_s3(self) -> None:
        """Restarts the S3 server empty, on the same port, with its buckets created again."""
        self.s3.stop()
        self.s3.start(buckets=BUCKETS)

    def stop(self) -> None:
        """Stops both servers (idempotent); folders are left for inspection."""
        self.s3.stop()
        self.scicat.stop()

    def env(self) -> dict[str, str]:
        """The archiver's environment variables pointing at this stack."""
        return {
            "SCICAT_ENDPOINT": self.scicat.url,
            "SCICAT_API_PREFIX": "/api/v3",
            "SCICAT_JOBS_API_PREFIX": self.jobs_api_prefix,
            "SCICAT_USER": SCICAT_USER,
            "SCICAT_PASSWORD": SCICAT_PASSWORD,
            "S3_ENDPOINT": self.s3.url,
            "S3_EXTERNAL_ENDPOINT": self.s3.url,
            "S3_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "S3_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "S3_REGION": REGION,
            "S3_LANDINGZONE_BUCKET": LANDING_ZONE_BUCKET,
            "S3_RETRIEVAL_BUCKET": RETRIEVAL_BUCKET,
            "LTS_STORAGE_ROOT": str(self.lts_root),
            # The local LTS shares the machine's disk: no margin, or a full /tmp fails the demo.
            "LTS_FREE_SPACE_PERCENTAGE": "0",
            "ARCHIVER_SCRATCH_FOLDER": str(self.scratch_root),
            "ARCHIVER_TARGET_SIZE_GB": "0.004",
            "ARCHIVER_LTS_WAIT_BEFORE_VERIFY_S": "0",
            "ARCHIVER_LTS_FILE_TIMEOUT_S": "5",
            "ARCHIVER_LTS_READ_RETRY_DELAY_S": "1",
            "ARCHIVER_LTS_FREE_SPACE_TIMEOUT_S": "5",
            # The demo, `make dev` and the tests run no nightly fixity audit (production does).
            "ARCHIVER_AUDIT_SCHEDULE": "off",
        }
