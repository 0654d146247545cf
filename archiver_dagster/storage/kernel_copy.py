"""One step of a file copy done by the kernel: `copy_file_range`, else `sendfile`.

`copy_file_range` refuses to copy between two filesystems (EXDEV since Linux 5.19, unless
both are of one type that supports it), which is where the LTS copy always goes: from the
local scratch disk to the LTS share. `sendfile` copies a regular file into another across
filesystems, also without the data passing through user space.
"""

import errno
import os

# copy_file_range answers these where it cannot copy between these two files at all.
REFUSALS = frozenset({errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL})


class KernelCopier:
    """Copies from `src` to `out` at their file positions, in steps, in the kernel."""

    def __init__(self, src: int, out: int) -> None:
        self.src = src
        self.out = out
        self.use_sendfile = False  # set once copy_file_range refused these files

    def step(self, count: int) -> int:
        """Copies up to `count` bytes and advances both positions; returns bytes copied."""
        if not self.use_sendfile:
            try:
                return os.copy_file_range(self.src, self.out, count)
            except OSError as error:
                if error.errno not in REFUSALS:
                    raise
                self.use_sendfile = True  # nothing was copied: positions are unchanged
        return os.sendfile(self.out, self.src, None, count)
