#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""flip.py IN OUT OFFSET [BIT] — copy IN to OUT with one bit flipped."""
import sys

data = bytearray(open(sys.argv[1], "rb").read())
off = int(sys.argv[3]) % len(data)
bit = int(sys.argv[4]) if len(sys.argv) > 4 else 0
data[off] ^= 1 << bit
open(sys.argv[2], "wb").write(data)
