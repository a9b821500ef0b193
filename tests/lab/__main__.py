"""Command line: ``python -m tests.lab serve --world standard --state-dir DIR``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from pathlib import Path

from .runtime import serve
from .world import world_by_name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.lab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("serve", help="start every server of a world and wait for SIGTERM")
    run.add_argument(
        "--world",
        default="standard",
        help="standard, bulk-distinct-N, bulk-shared-N, or a world JSON file",
    )
    run.add_argument("--state-dir", type=Path, required=True, help="certificates, ready file")
    run.add_argument("--ready-file", type=Path, help="default: STATE_DIR/ready.json")
    run.add_argument(
        "--parent-pid", type=int, help="exit when this process is no longer our parent"
    )
    args = parser.parse_args(argv)

    world = world_by_name(args.world)
    state_dir: Path = args.state_dir.resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    ready_file = (args.ready_file or state_dir / "ready.json").resolve()
    # SIGINT before the loop installs its handler lands here: still a clean exit.
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(world, state_dir, ready_file, args.parent_pid))
    return 0


if __name__ == "__main__":
    sys.exit(main())
