"""Running the daemon: `merp run` and `merp demo` start services on the real reactor."""
from __future__ import annotations

import argparse
import secrets
import sys

from erpcore import db
from gateway import heap
from gateway.config import Config, GatewaySection, LinkSection, WebSection
from gateway.logs import setup_logging


def _serve(reactor, service, on_started=None) -> None:
    service.startService()
    if on_started:
        on_started()
    reactor.addSystemEventTrigger("before", "shutdown", service.stopService)


#: Seconds a thread may hold the GIL while another waits for it (Python's default 5 ms).
#: The reactor does a little work between waits for the network (acknowledging an MO,
#: answering a cached WAP page); with the default each such step can wait 5 ms behind a
#: thread running commands or building a page. bench/README.md: WAP p99 roughly halves;
#: on the SMS spine no difference could be measured on the shared box.
GIL_SWITCH_INTERVAL = 0.0005


def run_gateway(config: Config, upgrade: bool = True) -> int:
    from twisted.internet import reactor

    from gateway.service import build_gateway

    sys.setswitchinterval(GIL_SWITCH_INTERVAL)
    setup_logging(config.gateway.log_level)
    if upgrade:
        db.upgrade(config.gateway.database)
    _serve(reactor, build_gateway(config, reactor))
    heap.settle()
    reactor.run()
    return 0


def demo_config(database: str, smpp_port: int, web_listen: str = "", operator_token: str = "") -> Config:
    return Config(
        gateway=GatewaySection(database=database, log_level="warn"),
        # Links in SMS and WAP Push must point at the port the demo actually serves.
        web=WebSection(listen=web_listen, operator_token=operator_token,
                       **({"public_url": _http_url(web_listen)} if web_listen else {})),
        links={
            "sim": LinkSection(
                endpoint=f"tcp:host=127.0.0.1:port={smpp_port}",
                system_id="merp",
                password="secret",
            )
        },
    )


def _http_url(endpoint: str) -> str:
    """http://host:port of a tcp server endpoint string such as tcp:8080:interface=127.0.0.1."""
    parts = dict(p.split("=", 1) for p in endpoint.split(":")[2:] if "=" in p)
    port = endpoint.split(":")[1]
    return f"http://{parts.get('interface', '127.0.0.1')}:{port}"


def run_demo(args: argparse.Namespace, intro: str) -> int:
    from twisted.application.service import MultiService
    from twisted.internet import reactor

    from erpcore import demo
    from gateway.service import build_gateway
    from sim.cli import build_smsc_service, smsc_options

    url = f"sqlite:///{args.db}"
    operator_token = getattr(args, "operator_token", "") or secrets.token_urlsafe(12)
    db.upgrade(url)
    engine = db.make_engine(url)
    with db.session_scope(db.make_sessionmaker(engine)) as session:
        demo.seed_demo(session)
        demo.set_demo_passwords(session)
    engine.dispose()

    setup_logging("warn")
    options = smsc_options(listen=args.smpp, control=args.control)
    simulator = build_smsc_service(options)
    whole = MultiService()
    simulator.setServiceParent(whole)

    def start_gateway() -> None:
        port = simulator.smpp_port()
        build_gateway(demo_config(url, port, args.web, operator_token), reactor).setServiceParent(whole)
        print(
            intro.format(
                database=args.db,
                smpp=f"127.0.0.1:{port}",
                control_url=simulator.control_url(),
                web=_http_url(args.web),
                operator_token=operator_token,
                service_number=demo.DEMO_SERVICE_CODE + "01",
            ),
            flush=True,
        )

    _serve(reactor, whole, on_started=start_gateway)
    reactor.run()
    return 0
