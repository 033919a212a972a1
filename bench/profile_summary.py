"""Summarise py-spy collapsed stacks (``--format raw``): top functions by self and total samples.

python -m bench.profile_summary paced.txt [--top 25]
"""

from __future__ import annotations

import argparse
import re
from collections import Counter

# py-spy frames look like "send (websockets/asyncio/connection.py:450)"; drop the line number.
FRAME = re.compile(r"^(.*?) \((.*?)(?::\d+)?\)$")


def name(frame: str) -> str:
    m = FRAME.match(frame.strip())
    if not m:
        return frame.strip()
    func, path = m.groups()
    parts = path.split("/")
    short = "/".join(parts[-2:]) if len(parts) > 1 else path
    return f"{func} ({short})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("file")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    with open(args.file) as f:
        for line in f:
            stack, _, count = line.rstrip().rpartition(" ")
            if not stack:
                continue
            n = int(count)
            frames = [name(x) for x in stack.split(";")]
            if frames and frames[0].startswith("process "):  # thread/process label
                frames = frames[1:]
            samples += n
            if frames:
                own[frames[-1]] += n
            for fr in set(frames):
                total[fr] += n
    print(f"{samples} samples")
    print("\nself:")
    for fr, n in own.most_common(args.top):
        print(f"{100 * n / samples:5.1f}%  {fr}")
    print("\ntotal (inclusive):")
    for fr, n in total.most_common(args.top):
        print(f"{100 * n / samples:5.1f}%  {fr}")


if __name__ == "__main__":
    main()
