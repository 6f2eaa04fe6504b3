"""vl-convert in a child process: Vega-Lite specifications in, SVG out.

vl-convert's engine takes ~0.4 s to start, and holds the GIL all that time (measured: a thread starting it
stalled the run's own thread by 0.37 s of a 4.9 s nightly run). In a child process it starts on the other
core while the run parses, resolves and assembles; the run only writes a line and reads a line per chart.

The protocol is one JSON object per line each way: a specification in; {"svg": ...} or {"error": ...} out.
The child ends when its standard input closes, which the run's exit (or death) does.
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, ClassVar

WARM_UP = {"data": {"values": [{"x": 1}]}, "mark": "point", "encoding": {"x": {"field": "x"}}}


class ChartEngineError(RuntimeError):
    """vl-convert refused a specification (the child's message)."""


class ChartEngine:
    """The run's chart process, started once and shared by the threads of the process (one chart at a time).
    If it cannot be started or dies, charts are drawn in this process instead: a report is never lost to it."""

    _process: ClassVar[subprocess.Popen | None] = None
    _lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def start(cls) -> None:
        """Start the child (it warms vl-convert up at once), unless it runs already."""
        with cls._lock:
            cls._running()

    @classmethod
    def svg(cls, spec: dict[str, Any]) -> str:
        with cls._lock:
            process = cls._running()
            if process is not None:
                try:
                    process.stdin.write(json.dumps(spec) + "\n")
                    process.stdin.flush()
                    answer = process.stdout.readline()
                except (BrokenPipeError, OSError):
                    answer = ""
                if answer:
                    reply = json.loads(answer)
                    if "error" in reply:
                        raise ChartEngineError(reply["error"])
                    return reply["svg"]
                cls._stop()  # died: this chart, and the next ones, in this process
        return _draw(spec)

    @classmethod
    def stop(cls) -> None:
        with cls._lock:
            cls._stop()

    @classmethod
    def _running(cls) -> subprocess.Popen | None:
        if cls._process is not None and cls._process.poll() is None:
            return cls._process
        try:
            # -I: neither this folder (load/ would shadow modules) nor the user's environment on sys.path
            cls._process = subprocess.Popen([sys.executable, "-I", str(Path(__file__).resolve())],
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=subprocess.DEVNULL, text=True, encoding="utf-8")
        except OSError:
            cls._process = None
        return cls._process

    @classmethod
    def _stop(cls) -> None:
        process, cls._process = cls._process, None
        if process is not None:
            for stream in (process.stdin, process.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


atexit.register(ChartEngine.stop)


def _draw(spec: dict[str, Any]) -> str:
    import vl_convert

    return vl_convert.vegalite_to_svg(spec)


def main() -> None:
    """The child: warm up, then answer each line of standard input until it closes. The answers go to the
    standard output as it was; whatever else writes there (a library's message) goes to standard error."""
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    _draw(WARM_UP)
    for line in sys.stdin:
        try:
            reply = {"svg": _draw(json.loads(line))}
        except Exception as exc:  # noqa: BLE001 - the run raises it (ChartEngineError)
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        answers.write(json.dumps(reply) + "\n")
        answers.flush()


if __name__ == "__main__":
    main()
