"""The gateway's web server: one twisted.web Site whose children are the HTTP faces of the
gateway: /metrics, the operator console (JSON API under /api, HTML pages under /console,
both only with an operator token), the WAP pages under /wap, the sync endpoints."""
from __future__ import annotations

from twisted.python.threadpool import ThreadPool
from twisted.web.resource import Resource
from twisted.web.server import Site

from gateway.metrics import metrics_resource
from gateway.web.console import OperatorConsole
from gateway.web.operator_api import OperatorApi
from gateway.web.sign_in_throttle import SignInThrottle
# The thread pool for blocking web work is the sync package's (one pool service for both).
from sync.threads import PoolService as ThreadPoolService

__all__ = ["ThreadPoolService", "build_site"]


def build_site(gateway, sessionmaker, web_config, reactor, pool: ThreadPool,
               wap_secret: bytes | None = None) -> Site:
    root = Resource()
    root.putChild(b"metrics", metrics_resource(gateway))
    if web_config.operator_token:
        # One throttle: wrong tokens sent to the API and to the console's sign-in count together.
        throttle = SignInThrottle(reactor.seconds)
        root.putChild(b"api", OperatorApi(sessionmaker, web_config.operator_token, reactor, pool, throttle))
        root.putChild(b"console", OperatorConsole(sessionmaker, web_config.operator_token, reactor, pool,
                                                  throttle=throttle))
    if getattr(web_config, "wap", False):
        from gateway.web.wap.resource import WapPages

        root.putChild(b"wap", WapPages(
            sessionmaker, reactor, pool,
            secret=wap_secret or web_config.wap_secret.encode("utf-8") or None,
            idle_seconds=60.0 * web_config.wap_session_minutes,
        ))
    if getattr(gateway, "sync", None) is not None:
        root.putChild(b"sync", gateway.sync.resource)  # sync endpoints per enterprise
    return Site(root)
