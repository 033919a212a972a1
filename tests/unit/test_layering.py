"""The layers of DESIGN.md hold: the core loads no I/O library, server and client stay apart."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE_MODULES = [f"workshop.{m.name}" for m in pkgutil.walk_packages([str(ROOT / "workshop")]) if m.name != "cli"]


def test_core_imports_no_io_library() -> None:
    """Without this, the pure core could quietly grow a socket or a database and stop being testable."""
    code = (
        "import sys, importlib\n"
        f"for m in {['workshop', *CORE_MODULES]!r}: importlib.import_module(m)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in "
        "{'textual', 'websockets', 'sqlite3', '_sqlite3', 'server', 'client', 'asyncio', 'socket'})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def _imports(package: str) -> set[str]:
    found: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize(("package", "forbidden"), [("server", {"client", "textual"}), ("client", {"server"})])
def test_server_and_client_do_not_import_each_other(package: str, forbidden: set[str]) -> None:
    """Without this, the server would drag Textual in, or a client would depend on server internals."""
    assert _imports(package) & forbidden == set()
