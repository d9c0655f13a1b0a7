#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench/drop-pages.py FILE... — drop each FILE's pages from the page cache
(posix_fadvise DONTNEED, after writing back its dirty pages with fsync), so
the next read of it comes from the disk: the cold start of the benchmarks'
read measurements (run.sh, read-probe.sh, read-profile.sh)."""
import os
import sys

if len(sys.argv) < 2:
    sys.exit(__doc__)
for path in sys.argv[1:]:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
