"""Lets ``python -m cli`` run the ``workshop`` command (the benchmark and tests start servers so)."""

import sys

from cli.main import main

sys.exit(main())
