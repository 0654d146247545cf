"""The benchmark's figures per payload byte, on scratch and without (no copy stage)."""

from devstack.bench import report
from devstack.bench.worker import STAGE_OPS, op_of

PAYLOAD = 1_000_000_000
FLOOR = {"s3_get": 500.0, "disk_write_fsync": 400.0, "disk_read_uncached": 1000.0}


def run(stages: dict, write_bytes: int, cancelled: int) -> dict:
    stage_figures = {
        name: {"span_s": seconds, "step_s": seconds, "op_s": seconds, "steps": 4}
        for name, seconds in stages.items()
    }
    return {
        "success": True,
        "wall_s": 10.0,
        "stages": stage_figures | {"run_s": 9.0, "steps": 20},
        "io": {
            "read_bytes": PAYLOAD,
            "write_bytes": write_bytes,
            "cancelled_write_bytes": cancelled,
        },
        "worker_peak_rss": 1,
        "step_peak_rss": 0,
        "cpu_s": 5.0,
        "s3_server_cpu_s": 1.0,
        "loadavg_1min_before": 0.5,
    }


def test_both_packs_count_as_the_pack_stage():
    assert op_of("archived_datablocks.pack_onto_lts[datablock_0]") in STAGE_OPS["pack"]
    assert op_of("archived_datablocks.pack_datablock[datablock_3]") in STAGE_OPS["pack"]


def test_on_scratch_a_tar_deleted_before_write_back_is_not_written_net():
    summary = report.summarize(
        [run({"pack": 4.0, "copy": 2.0, "verify": 1.0}, 2 * PAYLOAD, PAYLOAD // 4)], PAYLOAD, FLOOR
    )
    assert summary["written_per_payload_byte"] == 2.0
    assert summary["net_written_per_payload_byte"] == 1.75
    assert summary["total"]["sum_of_stages_seconds"] == 7.0


def test_without_scratch_there_is_no_copy_stage_and_one_write_per_byte():
    summary = report.summarize([run({"pack": 4.0, "verify": 1.0}, PAYLOAD, 0)], PAYLOAD, FLOOR)
    assert summary["written_per_payload_byte"] == summary["net_written_per_payload_byte"] == 1.0
    assert summary["read_per_payload_byte"] == 1.0
    assert summary["stages"]["copy"]["seconds"] == 0.0
    assert summary["total"]["sum_of_stages_seconds"] == 5.0
    assert summary["datablocks"] == 4
