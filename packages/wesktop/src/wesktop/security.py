"""Who may talk to a local app: a Host-header allowlist and an Origin check.

A desktop app's server listens on 127.0.0.1, where every web page open in any browser on the
machine can reach it. :func:`wesktop.create_app` therefore turns wirecore's
:class:`~wirecore.security.RequestGuard` on by default: requests whose Host is not a loopback
name (DNS rebinding) and state-changing requests or WebSocket upgrades from another site's page
are refused with 403 (a WebSocket is closed with 1008) before any middleware or handler runs.
``create_app(allowed_hosts=..., allowed_origins=...)`` widens the lists; ``["*"]`` turns a check
off. The checks themselves are documented in :mod:`wirecore.security`.
"""

from wirecore.security import LOOPBACK_HOSTS, SAFE_METHODS, RequestGuard, host_name

__all__ = ["LOOPBACK_HOSTS", "SAFE_METHODS", "RequestGuard", "host_name"]
