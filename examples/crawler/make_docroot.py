#!/usr/bin/python3
"""Writes the crawler's test site: COUNT files page-NN.bin of different sizes
(a few over 1 MiB) with pseudo-random bytes (the same every run), into DIR.

    make_docroot.py DIR [COUNT]
"""

import os
import random
import sys


def sizes(count):
    """Sizes from a few bytes to about 2.5 MiB; every 10th file is over 1 MiB."""
    out = []
    for i in range(count):
        if i % 10 == 7:
            out.append((1 << 20) + i * 31_337)           # 1 MiB and more
        else:
            out.append((i * i * 977 + 13 * i + 1) % 300_000)
    return out


def main(argv):
    if len(argv) not in (1, 2):
        sys.exit(__doc__)
    directory = argv[0]
    count = int(argv[1]) if len(argv) == 2 else 50
    os.makedirs(directory, exist_ok=True)
    for i, size in enumerate(sizes(count)):
        data = random.Random(i).randbytes(size)
        with open(os.path.join(directory, f"page-{i:02d}.bin"), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main(sys.argv[1:])
