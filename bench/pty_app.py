"""Provides PtyApp: a terminal program on its own pseudo-terminal, its output drained and its CPU read.

The apps are measured as users run them: a real process on a real terminal device of a given
size, its screen output read (and thrown away) as fast as a terminal would, its CPU taken from
``/proc``. Keys are written to the terminal; ``wait_for`` notes when a given text first shows up
in what the program writes, which is how keypress-to-screen latency is measured.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import signal
import struct
import termios
import threading
import time
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int, thread: int = 0) -> float:
    """CPU time of ``pid`` (all its live threads, or only ``thread``), to the nanosecond where the kernel says.

    ``/proc/.../schedstat`` counts nanoseconds on the CPU; ``/proc/.../stat`` counts 10 ms ticks,
    too coarse for a change that costs 1 ms (40 of them read as anything from 0 to 2 ticks).
    """
    tasks = [thread] if thread else [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    try:
        total = 0
        for tid in tasks:
            with contextlib.suppress(FileNotFoundError):  # a thread that ended meanwhile
                total += int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[0])
        return total / 1e9
    except (OSError, ValueError):  # a kernel without schedstat: ticks it is
        stat = f"/proc/{pid}/task/{thread}/stat" if thread else f"/proc/{pid}/stat"
        fields = Path(stat).read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS


class PtyApp:
    def __init__(self, argv: list[str], size: tuple[int, int] = (120, 40), env: dict[str, str] | None = None) -> None:
        self.argv = argv
        cols, rows = size
        pid, fd = pty.fork()
        if pid == 0:  # the child: a terminal program, as in a real terminal
            os.environ.update(env or {})
            os.environ["TERM"] = "xterm-256color"
            os.environ["COLORTERM"] = "truecolor"
            try:
                os.execvp(argv[0], argv)
            finally:
                os._exit(127)
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        os.kill(pid, signal.SIGWINCH)
        self.pid, self.fd = pid, fd
        self.bytes_out = 0
        self._tail = b""
        self._watch: dict[bytes, float] = {}  # text -> when it first appeared after being watched
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._drain, name=f"pty-{pid}", daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            now = time.perf_counter()
            with self._lock:
                self.bytes_out += len(chunk)
                window = self._tail + chunk
                for text, seen in self._watch.items():
                    if not seen and text in window:
                        self._watch[text] = now
                self._tail = window[-4096:]

    def watch(self, text: str) -> None:
        """Start looking for ``text`` in what the program writes from now on."""
        with self._lock:
            self._watch[text.encode()] = 0.0
            self._tail = b""  # not in what it wrote before: a text shown again must be found again

    def seen(self, text: str) -> float:
        """When ``text`` appeared after ``watch`` (a perf_counter time), or 0.0 if not yet."""
        with self._lock:
            return self._watch.get(text.encode(), 0.0)

    def wait_for(self, text: str, timeout: float = 30.0) -> float:
        """Block until ``text`` (being watched) appears; return when it did."""
        deadline = time.perf_counter() + timeout
        while not (at := self.seen(text)):
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{self.argv[:3]} never showed {text!r}")
            time.sleep(0.002)
        return at

    def write(self, data: str) -> float:
        """Type ``data``; returns when it was written."""
        at = time.perf_counter()
        os.write(self.fd, data.encode())
        return at

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def alive(self) -> bool:
        try:
            return os.waitpid(self.pid, os.WNOHANG) == (0, 0)
        except ChildProcessError:
            return False

    def settle(self, quiet: float = 0.6, share: float = 0.01, timeout: float = 60.0) -> bool:
        """Wait until the program has used under ``share`` of a core for ``quiet`` seconds: its drawing caught up.

        Not "no CPU at all": a blinking cursor or a clock costs a little every half second, and
        with CPU read in nanoseconds an app that shows one would never count as settled (each
        wait then ran to its timeout, and the idle share subtracted over that minute swamped
        what the events cost). Returns whether it settled before ``timeout``.
        """
        deadline = time.monotonic() + timeout
        samples = [(time.monotonic(), self.cpu())]
        while time.monotonic() < deadline:
            time.sleep(0.05)
            now, cpu = time.monotonic(), self.cpu()
            samples.append((now, cpu))
            while len(samples) > 2 and now - samples[1][0] >= quiet:
                samples.pop(0)  # keep the window just over ``quiet`` seconds long
            start, start_cpu = samples[0]
            if now - start >= quiet and cpu - start_cpu <= share * (now - start):
                return True
        return False

    def close(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        with contextlib.suppress(OSError):
            os.close(self.fd)
