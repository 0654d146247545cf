"""What one scale session submits: one large archive job, many small ones, filler partitions."""

from dataclasses import dataclass

PID_PREFIX = "20.500.11935/scale"
FILLER_PREFIX = "scale-filler"


@dataclass(frozen=True)
class ScaleShape:
    """Sizes and time bounds of one session."""

    big_job: int  # datasets in the one large job
    small_jobs: int  # number of small jobs
    small_job_size: int  # datasets per small job
    partitions: int  # dynamic partitions in the instance before the jobs arrive
    warmup_s: float  # from submission to the start of the throughput window
    window_s: float  # length of the throughput window
    queue_deadline_s: float  # longest wait, from submission, for the large job to be queued

    @property
    def datasets(self) -> int:
        """Datasets the session seeds."""
        return self.big_job + self.small_jobs * self.small_job_size


FULL = ScaleShape(
    big_job=1000,
    small_jobs=100,
    small_job_size=10,
    partitions=50_000,
    warmup_s=30.0,
    window_s=300.0,
    queue_deadline_s=360.0,
)
SHORT = ScaleShape(
    big_job=200,
    small_jobs=10,
    small_job_size=10,
    partitions=5_000,
    warmup_s=30.0,
    window_s=120.0,
    queue_deadline_s=300.0,
)


@dataclass(frozen=True)
class JobPlan:
    """The PIDs of the large job and of each small job, in submission order."""

    big: list[str]
    small: list[list[str]]

    @property
    def pids(self) -> list[str]:
        """Every PID, the large job's first."""
        return self.big + [pid for job in self.small for pid in job]


def plan_jobs(shape: ScaleShape, tag: str) -> JobPlan:
    """Unique PIDs for one session (`tag` keeps sessions on one stack apart), split into jobs."""
    pids = [f"{PID_PREFIX}-{tag}-{index:05d}" for index in range(shape.datasets)]
    size = shape.small_job_size
    small = pids[shape.big_job :]
    return JobPlan(
        big=pids[: shape.big_job],
        small=[small[start : start + size] for start in range(0, len(small), size)],
    )


def filler_partitions(count: int, tag: str) -> list[str]:
    """Keys of partitions that stand for datasets archived long ago."""
    return [f"{FILLER_PREFIX}/{tag}/{index:06d}" for index in range(count)]
