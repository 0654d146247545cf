"""The whole machine's busy CPU time from /proc/stat (everyone's processes, not only ours)."""

import os
from pathlib import Path

# user nice system idle iowait irq softirq steal: all but idle and iowait are busy.
BUSY_FIELDS = (0, 1, 2, 5, 6, 7)


def busy_seconds() -> float:
    """CPU seconds the machine's cores have been busy since boot, summed over cores."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    return sum(int(fields[index]) for index in BUSY_FIELDS) / os.sysconf("SC_CLK_TCK")
