"""The layers of DESIGN.md hold, at any depth: what each package may import, and what the core loads.

Two checks, because each misses what the other sees. The static one reads every import in every
file (inside functions too, relative ones resolved, and ``importlib.import_module("...")`` or
``__import__("...")`` with a literal name); a computed module name is refused outright, since no
reader can check it. The runtime one imports every core module in a fresh interpreter and looks
at what ended up in ``sys.modules``, which catches a library that a permitted one drags in.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = {"workshop", "server", "client", "cli", "doors"}

# Standard-library modules that do I/O, run code concurrently or read the world: never in the core.
IO_STDLIB = {
    "asyncio", "socket", "ssl", "selectors", "select", "sqlite3", "_sqlite3", "subprocess", "threading",
    "multiprocessing", "concurrent", "http", "urllib", "os", "shutil", "tempfile", "pathlib", "signal",
    "time", "random", "secrets", "logging", "platform", "ctypes", "importlib", "pkgutil",
}  # fmt: skip
# Third-party libraries each package may use; anything else needs a decision recorded here first.
THIRD_PARTY = {
    "workshop": {"msgspec", "icalendar"},  # icalendar: imported only when a calendar is made
    "server": {"msgspec", "websockets", "psycopg"},  # psycopg: only for a postgresql:// log
    "client": {"msgspec", "websockets", "textual", "rich", "platformdirs"},
    # Doors run the participant app as a process, so they never need Textual themselves.
    "doors": {"msgspec", "websockets", "asyncssh", "textual_serve", "aiohttp", "platformdirs"},
    "cli": None,  # the composition root may use anything the project depends on
}
FIRST_PARTY_ALLOWED = {
    "workshop": {"workshop"},
    "server": {"workshop", "server"},
    "client": {"workshop", "client"},
    "doors": {"workshop", "server", "doors"},
    "cli": FIRST_PARTY,
}
DYNAMIC = {("importlib", "import_module"), ("", "__import__"), ("", "exec"), ("", "eval")}


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, node: ast.ImportFrom, path: Path) -> str:
    if node.level == 0:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(path: Path, root: Path = ROOT) -> list[tuple[int, str]]:
    """Every module ``path`` imports, with its line: top level, in functions, relative or dynamic."""
    module = _module_name(path, root)
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.lineno, _resolve(module, node, path)))
        elif isinstance(node, ast.Call):
            func = node.func
            name = (
                (getattr(func.value, "id", ""), func.attr)
                if isinstance(func, ast.Attribute)
                else ("", getattr(func, "id", ""))
            )
            if name in DYNAMIC:
                arg = node.args[0] if node.args else None
                literal = isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                found.append((node.lineno, arg.value if literal else "<computed name>"))
    return found


def violations(package: str) -> list[str]:
    """Each import in ``package`` that its layer does not allow, as ``file:line imports name``."""
    stdlib = set(sys.stdlib_module_names)
    third = THIRD_PARTY[package]
    out: list[str] = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for line, name in imports_of(path):
            top = name.split(".")[0]
            where = f"{path.relative_to(ROOT)}:{line} imports {name}"
            if name == "<computed name>":
                out.append(f"{where} (a dynamic import no check can follow)")
            elif top in FIRST_PARTY:
                if top not in FIRST_PARTY_ALLOWED[package]:
                    out.append(where)
            elif top in stdlib or top == "__future__":
                if package == "workshop" and top in IO_STDLIB:
                    out.append(f"{where} (I/O in the pure core)")
            elif third is not None and top not in third:
                out.append(f"{where} (a third-party library this layer does not use)")
    return out


@pytest.mark.parametrize("package", sorted(FIRST_PARTY))
def test_each_layer_imports_only_what_it_may(package: str) -> None:
    """Without this, the core could grow a socket or a database, or server and client could tangle."""
    assert violations(package) == []


def _loaded(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nprint('\\n'.join(sys.modules))"],
                         cwd=ROOT, capture_output=True, text=True, check=True)  # fmt: skip
    return {name.split(".")[0] for name in out.stdout.split()}


def test_core_loads_no_io_library_at_runtime() -> None:
    """Without this, the core could load an I/O library through a path the static check cannot read."""
    allowed = THIRD_PARTY["workshop"]
    # What the interpreter and the allowed libraries load by themselves is theirs, not the core's.
    baseline = _loaded("import sys, importlib, pkgutil\n" + "".join(f"import {m}\n" for m in sorted(allowed)))
    loaded = _loaded(
        "import sys, importlib, pkgutil, workshop\n"
        "for m in pkgutil.walk_packages(workshop.__path__, 'workshop.'): importlib.import_module(m.name)"
    )
    stdlib = set(sys.stdlib_module_names)
    added = loaded - baseline
    bad = sorted(
        n for n in added if n in IO_STDLIB or n in FIRST_PARTY - {"workshop"} or n not in stdlib | {"workshop"}
    )
    assert bad == [], f"importing the core loads {bad}"


def test_the_check_sees_what_the_old_one_missed(tmp_path: Path) -> None:
    """Without this, the layering test could pass on violations it cannot see, as its predecessor did."""
    sample = tmp_path / "workshop" / "export" / "odd.py"
    sample.parent.mkdir(parents=True)
    sample.write_text(
        "import importlib\n"
        "def f():\n    import sqlite3\n    from ..server import app\n"
        "    importlib.import_module('client.connection')\n    importlib.import_module(name)\n",
        encoding="utf-8",
    )
    names = [name for _, name in imports_of(sample, tmp_path)]
    assert names == ["importlib", "sqlite3", "workshop.server", "client.connection", "<computed name>"]
