"""``remote_access=True``: ask a public relay for a temporary address through an SSH tunnel.

This can only work with an ``ssh`` binary and internet access. Whatever goes wrong is logged
with the reason and never affects the local server.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import threading

__all__ = ["start_remote_access_service"]

logger = logging.getLogger("pywebio")

DEFAULT_SERVER = "app.pywebio.online"
DEFAULT_PORT = 1022
TIMEOUT = 60.0


def _server() -> tuple[str, int]:
    value = os.environ.get("PYWEBIO_REMOTE_ACCESS", "")
    host, _, port = value.partition(":")
    try:
        return (host or DEFAULT_SERVER, int(port) if port else DEFAULT_PORT)
    except ValueError:
        logger.warning("PYWEBIO_REMOTE_ACCESS=%r is not host[:port]; using the default relay", value)
        return (DEFAULT_SERVER, DEFAULT_PORT)


def start_remote_access_service(local_port: int, timeout: float = TIMEOUT) -> threading.Thread | None:
    """Start the tunnel in a daemon thread (``None`` when it cannot even start: logged)."""
    ssh = shutil.which("ssh")
    if ssh is None:
        logger.warning(
            "remote_access: no 'ssh' command found, so no public address; the local server runs on"
        )
        return None
    thread = threading.Thread(
        target=_run, args=(ssh, local_port, timeout), daemon=True, name="pywebio-remote-access"
    )
    thread.start()
    return thread


def _run(ssh: str, local_port: int, timeout: float) -> None:
    host, port = _server()
    cmd = [
        ssh, "-oStrictHostKeyChecking=no", "-oBatchMode=yes", "-oConnectTimeout=10",
        "-R", f"80:127.0.0.1:{local_port}", "-p", str(port), f"{host}", "--", "--output=json",
    ]  # fmt: skip
    try:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
    except OSError as exc:
        logger.warning("remote_access: cannot run ssh (%s); the local server runs on", exc)
        return
    timer = threading.Timer(timeout, _give_up, args=(proc, timeout))
    timer.daemon = True
    timer.start()
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            err = (proc.stderr.read() if proc.stderr else "").strip().splitlines()
            reason = err[-1] if err else f"ssh exited with status {proc.wait()}"
            logger.warning(
                "remote_access: could not reach %s:%s (%s); the local server runs on", host, port, reason
            )
            return
        try:
            info = json.loads(line)
        except ValueError:
            logger.warning("remote_access: unexpected answer from %s: %.200r", host, line)
            return
        if info.get("status") != "success":
            logger.warning("remote_access: the relay refused: %s", info.get("message", info))
            return
        timer.cancel()
        address = info.get("address")
        logger.info("remote access address: %s", address)
        print(f"Remote access address: {address}", flush=True)
        proc.wait()
        logger.warning("remote_access: the tunnel closed")
    except Exception:
        logger.exception("remote_access failed; the local server runs on")
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()


def _give_up(proc: subprocess.Popen[str], timeout: float) -> None:
    if proc.poll() is None:
        logger.warning("remote_access: no answer from the relay within %ss; giving up", timeout)
        proc.kill()
