"""``make bench``: every benchmark, one after another, each printing its table.

    python -m bench.all [--quick]
"""

import sys

from bench import (cold_start, multipart_cost, processing, resumable, signing, throughput, thumbnails, transfers,
                   upload_cost)


def main() -> None:
    args = [a for a in sys.argv[1:] if a == "--quick"]
    for module in (upload_cost, multipart_cost, resumable, signing, cold_start, throughput, thumbnails, processing,
                   transfers):
        module.main(args)
        print()


if __name__ == "__main__":
    main()
