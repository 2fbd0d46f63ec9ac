"""`make run`: daphne (WEB_PROCESSES processes on one port) + a Celery worker + beat in the foreground;
Ctrl-C stops them all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
PORT = os.environ.get("PORT", "8000")

sys.path.insert(0, str(ROOT))
from apps.clients.demo import CLIENTS, PASSWORD, STAFF_EMAIL  # noqa: E402
from scripts.web import listen, start_daphne, web_processes  # noqa: E402

PROCESSES = {
    "worker": [str(BIN / "celery"), "-A", "vocalia", "worker", "--loglevel", "INFO", "--concurrency", "2"],
    "beat": [str(BIN / "celery"), "-A", "vocalia", "beat", "--loglevel", "INFO"],
}


def banner() -> None:
    print(
        f"""
  Vocalia is running.
    Agency admin   http://localhost:{PORT}/admin/
                   {STAFF_EMAIL} / {PASSWORD}
                   MFA code: .venv/bin/python manage.py totp_code {STAFF_EMAIL}"""
    )
    for spec in CLIENTS:
        print(f"""    {spec['name']:<26} http://{spec['slug']}.localhost:{PORT}/
                   {spec['owner']} / {PASSWORD}""")
    print(f"    Health         http://localhost:{PORT}/readyz\n  Ctrl-C stops everything.\n", flush=True)


def main() -> int:
    children: dict[str, subprocess.Popen[bytes]] = {}
    socket = listen("0.0.0.0", int(PORT))
    for number, process in enumerate(start_daphne(socket, web_processes(), start_new_session=True)):
        children[f"web-{number + 1}"] = process
    for name, command in PROCESSES.items():
        children[name] = subprocess.Popen(command, cwd=ROOT, start_new_session=True)
    time.sleep(2)
    banner()

    def stop(*_args: object) -> None:
        for child in children.values():
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    try:
        while True:
            for name, child in children.items():
                if child.poll() is not None:
                    print(f"{name} exited with {child.returncode}; stopping the others", file=sys.stderr)
                    stop()
                    return child.returncode or 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        stop()
        for child in children.values():
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
        return 0


if __name__ == "__main__":
    sys.exit(main())
