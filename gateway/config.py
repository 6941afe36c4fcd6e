"""The one typed configuration of a gateway, read once from `merp.ini` at start-up.

Every option has a default and help text; `merp.ini.example` is generated from these
definitions (`merp config example`), so the documentation cannot drift from the code.
"""
from __future__ import annotations

import configparser
import dataclasses
import datetime
from dataclasses import dataclass, field
from typing import Any


class ConfigError(ValueError):
    """The configuration file says something we cannot run with; the message says what."""


def opt(default: Any, help: str) -> Any:  # noqa: A002 - "help" reads best in the tables below
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class GatewaySection:
    database: str = opt(
        "sqlite:///merp.db",
        "SQLAlchemy URL of the store: sqlite:///FILE (embedded, one process) or "
        "mysql+pymysql://USER:PASS@HOST/DB (MariaDB/MySQL, several processes)",
    )
    service_code: str = opt(
        "1065712345",
        "the service number handsets text; an enterprise's extension follows it "
        "(1065712345 + 01 = enterprise 01)",
    )
    db_threads: int = opt(0, "database worker threads; 0 = 1 for SQLite, 4 otherwise")
    log_level: str = opt("info", "debug, info, warn or error")


@dataclass(frozen=True)
class InboxSection:
    part_timeout: float = opt(
        300.0, "seconds to wait for the missing parts of a long MO before answering what came"
    )
    batch: int = opt(200, "MOs a dispatcher transaction handles at most")
    lease: float = opt(60.0, "seconds a claimed MO stays claimed before another worker may retry it")
    in_flight: int = opt(
        1, "dispatcher batches, and writes of arrived MOs and receipts, in flight at once (each "
        "on a db thread of its own; MySQL/MariaDB only): 1 suits a database on the gateway's own "
        "few cores, 2 a server elsewhere whose round trips can overlap",
    )


@dataclass(frozen=True)
class OutboxSection:
    max_attempts: int = opt(8, "submit attempts before a reply is marked failed")
    retry_initial: float = opt(1.0, "first retry delay in seconds after a transient error")
    retry_max: float = opt(300.0, "longest retry delay in seconds (exponential backoff)")
    lease: float = opt(
        60.0, "seconds a claimed reply stays claimed; after a crash it is resent then"
    )
    batch: int = opt(200, "replies claimed from the store at once")
    poll_interval: float = opt(1.0, "seconds between looks for replies whose retry is due")


@dataclass(frozen=True)
class NotifySection:
    quiet_start: str = opt(
        "22:00", "start of quiet hours (enterprise local time, HH:MM): non-urgent notifications "
        "(alerts, approval requests) wait until quiet_end; equal start and end = none"
    )
    quiet_end: str = opt("08:00", "end of quiet hours (HH:MM)")
    utc_offset_hours: float = opt(8.0, "enterprises' local time as hours east of UTC")
    interval: float = opt(5.0, "seconds between looks for notifications to send")
    batch: int = opt(200, "notifications turned into SMS per transaction at most")


@dataclass(frozen=True)
class CommandsSection:
    approval_pin_above: float = opt(
        0.0, "approving a document whose total is at least this needs the approver's PIN "
        "(Y <no> <PIN>; the PIN is their web password); 0 = never"
    )


@dataclass(frozen=True)
class SyncSection:
    peers: str = opt(
        "", "file listing the enterprises whose own ERP servers sync with us (secret, agent URL, "
        "conflict rules; see `merp agent --example-peers`); empty = no sync. Needs [web] listen: "
        "the endpoints are served under /sync/<enterprise code>/"
    )
    threads: int = opt(2, "database threads of the sync scans and batches")


@dataclass(frozen=True)
class WebSection:
    listen: str = opt(
        "", "Twisted server endpoint of the web server (/metrics, /api), e.g. "
        "tcp:8080:interface=127.0.0.1; empty = no web server"
    )
    operator_token: str = opt(
        "", "bearer token of the operator console JSON API under /api; empty = API off"
    )
    threads: int = opt(4, "database threads serving web requests")
    wap: bool = opt(True, "serve the WAP approval pages (WML, XHTML-MP, HTML) under /wap")
    wap_secret: str = opt(
        "", "secret that signs approval links and login forms; empty = a random one per start "
        "(links sent before a restart then stop working)"
    )
    wap_session_minutes: int = opt(15, "minutes of inactivity after which a WAP login ends")
    wap_link_hours: int = opt(72, "hours an approval link sent by SMS stays valid")
    public_url: str = opt(
        "http://127.0.0.1:8080", "base URL handsets reach the web server at (links in SMS and WAP Push)"
    )


@dataclass(frozen=True)
class LinkSection:
    protocol: str = opt("smpp", "smpp (SMPP 3.4), cmpp2 or cmpp3 (CMPP 2.0 / 3.0, to an ISMG)")
    endpoint: str = opt(
        "tcp:host=127.0.0.1:port=2775", "Twisted client endpoint string of the SMS centre"
    )
    system_id: str = opt("merp", "SMPP system_id to bind with")
    password: str = opt("secret", "SMPP password")
    system_type: str = opt("", "SMPP system_type, if the SMS centre wants one")
    bind_mode: str = opt(
        "transceiver", "transceiver (one bind both ways), transmitter (submits only) or receiver "
        "(MOs and receipts only); for separate TX and RX binds name two links to the same SMS centre"
    )
    window: int = opt(10, "submits in flight at most (the SMPP window)")
    rate: float = opt(0.0, "submits per second at most; 0 = no limit but the window")
    enquire_link_interval: float = opt(30.0, "seconds of silence before an enquire_link")
    response_timeout: float = opt(10.0, "seconds to wait for a response before giving up")
    reconnect_initial: float = opt(1.0, "first reconnect delay in seconds")
    reconnect_max: float = opt(60.0, "longest reconnect delay in seconds")
    source_ton: int = opt(0, "type of number of our source address")
    source_npi: int = opt(0, "numbering plan of our source address")
    dest_ton: int = opt(1, "type of number of handset addresses")
    dest_npi: int = opt(1, "numbering plan of handset addresses")
    service_codes: str = opt(
        "", "service codes this link serves, comma-separated (e.g. 10658,1065712345): MOs to "
        "them are routed by the longest, and MTs from them leave only by this link; empty = any"
    )
    mo_id_tag: int = opt(
        0x1400, "TLV tag in which the SMS centre sends its MO id (deduplication); 0 = none"
    )
    sp_id: str = opt("901234", "CMPP: the SP's enterprise code (Source_Addr, Msg_src)")
    shared_secret: str = opt("secret", "CMPP: the secret shared with the ISMG (authenticators)")
    service_id: str = opt("", "CMPP: Service_Id of our submits (the service code at the ISMG)")
    src_id: str = opt("", "CMPP: prefix put before a Src_Id that does not already start with it")
    cmpp_window: int = opt(16, "CMPP: submits in flight at most (the specification's 16)")
    active_test_interval: float = opt(180.0, "CMPP: seconds of silence before an ACTIVE_TEST")
    cmpp_response_timeout: float = opt(60.0, "CMPP: seconds to wait for a response (T)")
    cmpp_retries: int = opt(3, "CMPP: sends of a request before giving up on it (N)")
    flow_control_backoff: float = opt(
        1.0, "CMPP: first pause in seconds after Result 8 (flow control), doubled while it lasts"
    )


@dataclass(frozen=True)
class Config:
    gateway: GatewaySection = field(default_factory=GatewaySection)
    inbox: InboxSection = field(default_factory=InboxSection)
    outbox: OutboxSection = field(default_factory=OutboxSection)
    web: WebSection = field(default_factory=WebSection)
    notify: NotifySection = field(default_factory=NotifySection)
    commands: CommandsSection = field(default_factory=CommandsSection)
    sync: SyncSection = field(default_factory=SyncSection)
    links: dict[str, LinkSection] = field(default_factory=dict)

    @property
    def db_threads(self) -> int:
        if self.gateway.db_threads > 0:
            return self.gateway.db_threads
        return 1 if self.gateway.database.startswith("sqlite") else 4


_SECTIONS = {
    "gateway": GatewaySection,
    "inbox": InboxSection,
    "outbox": OutboxSection,
    "web": WebSection,
    "notify": NotifySection,
    "commands": CommandsSection,
    "sync": SyncSection,
}
LINK_PREFIX = "link:"
PROTOCOLS = ("smpp", "cmpp2", "cmpp3")


def _coerce(section: str, name: str, raw: str, kind: type) -> Any:
    try:
        if kind is int:
            return int(raw, 0)
        if kind is float:
            return float(raw)
        if kind is bool:
            return raw.strip().lower() in ("1", "yes", "true", "on")
        return raw
    except ValueError:
        raise ConfigError(f"[{section}] {name} = {raw!r}: expected {kind.__name__}") from None


def _build(cls: type, section: str, values: dict[str, str]) -> Any:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for name, raw in values.items():
        if name not in fields:
            known = ", ".join(sorted(fields))
            raise ConfigError(f"[{section}] unknown option {name!r}; known options: {known}")
        kind = {"int": int, "float": float, "bool": bool}.get(str(fields[name].type), str)
        kwargs[name] = _coerce(section, name, raw, kind)
    return cls(**kwargs)


def parse(text: str, source: str = "<string>") -> Config:
    parser = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=("#", ";"))
    try:
        parser.read_string(text, source)
    except configparser.Error as exc:
        raise ConfigError(f"{source}: {exc}") from None
    sections: dict[str, Any] = {}
    links: dict[str, LinkSection] = {}
    for name in parser.sections():
        values = dict(parser.items(name))
        if name.startswith(LINK_PREFIX):
            link = name[len(LINK_PREFIX):].strip()
            if not link:
                raise ConfigError(f"[{name}] a link section needs a name, e.g. [link:smsc1]")
            links[link] = _build(LinkSection, name, values)
        elif name in _SECTIONS:
            sections[name] = _build(_SECTIONS[name], name, values)
        else:
            raise ConfigError(
                f"{source}: unknown section [{name}]; known: "
                + ", ".join([*_SECTIONS, "link:NAME"])
            )
    for option in ("quiet_start", "quiet_end"):
        value = getattr(sections.get("notify", NotifySection()), option)
        try:
            datetime.time.fromisoformat(value.strip())
        except ValueError:
            raise ConfigError(f"[notify] {option} = {value!r}: expected a time HH:MM") from None
    if sections.get("inbox", InboxSection()).in_flight < 1:
        raise ConfigError("[inbox] in_flight must be at least 1")
    for link, section in links.items():
        if section.protocol == "smpp" and section.bind_mode not in ("transceiver", "transmitter", "receiver"):
            raise ConfigError(
                f"[link:{link}] bind_mode {section.bind_mode!r}: use transceiver, transmitter or receiver"
            )
        if section.protocol not in PROTOCOLS:
            raise ConfigError(f"[link:{link}] protocol {section.protocol!r} is not supported: "
                              + ", ".join(PROTOCOLS))
    return Config(links=links, **sections)


def load(path: str) -> Config:
    try:
        with open(path, encoding="utf-8") as fh:
            return parse(fh.read(), path)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None


def example() -> str:
    """The annotated example configuration: every option, its default and its help."""
    lines = [
        "# merp gateway configuration (generated by `merp config example`).",
        "# Every option is shown with its default; delete what you do not change.",
        "",
    ]

    def emit(title: str, cls: type) -> None:
        lines.append(f"[{title}]")
        for f in dataclasses.fields(cls):
            lines.append(f"# {f.metadata['help']}")
            value = f.default
            if f.name == "mo_id_tag":
                value = hex(value)
            lines.append(f"{f.name} = {value}")
        lines.append("")

    for title, cls in _SECTIONS.items():
        emit(title, cls)
    lines.append("# One [link:NAME] section per connection to an SMS centre.")
    emit("link:smsc1", LinkSection)
    return "\n".join(lines)
