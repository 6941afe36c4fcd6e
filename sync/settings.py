"""The sync configuration files: the agent's `agent.ini` (its database, the gateway, the
secret, and per table the column mapping onto canonical items and stock, the conflict rule
and the key fields a fast scan watches) and the cluster's peers file (per enterprise:
secret, agent URL, conflict rules, key fields). See `sync.example`.
"""
from __future__ import annotations

import configparser
from dataclasses import dataclass, field

from sync.cluster_tables import FIELDS, SPECS
from sync.peer import PeerSettings
from sync.spec import Rule

TABLES = ("items", "stock")
_PEER_FIELDS = ("heartbeat_interval", "fast_scan_interval", "full_scan_interval",
                "full_sync_interval", "alarm_after_failures", "lag_alarm_seconds",
                "silence_alarm_seconds")


class SettingsError(ValueError):
    """A sync configuration file we cannot run with; the message says where and why."""


@dataclass(frozen=True)
class TableMapping:
    name: str                     # canonical table: items or stock
    source: str                   # the enterprise's table
    mapping: dict = field(default_factory=dict)  # canonical field -> column
    rule: Rule = Rule.ENTERPRISE_WINS
    key_fields: tuple[str, ...] = ()  # what a fast scan watches; () = the table's default

    def spec(self):
        return table_spec(self.name, self.rule, self.key_fields)


@dataclass(frozen=True)
class AgentSettings:
    database: str
    enterprise: str
    gateway_url: str
    secret: str
    listen: str
    tables: tuple[TableMapping, ...]
    peer: PeerSettings
    ca_file: str | None = None    # PEM file of the CA (or self-signed cert) trusted for https


@dataclass(frozen=True)
class EnterprisePeer:
    code: str
    secret: str
    agent_url: str
    rules: dict  # table -> Rule
    ca_file: str | None = None    # PEM file trusted for the agent's https certificate
    key_fields: dict = field(default_factory=dict)  # table -> fields a fast scan watches

    def spec(self, table: str):
        return table_spec(table, self.rules[table], self.key_fields.get(table, ()))


def table_spec(table: str, rule: Rule, key_fields: tuple[str, ...] = ()):
    """The spec of a canonical table with its rule and (if set) its key fields."""
    return SPECS[table](rule, key_fields) if key_fields else SPECS[table](rule)


def _parser(text: str, source: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=("#", ";"))
    try:
        parser.read_string(text, source)
    except configparser.Error as exc:
        raise SettingsError(f"{source}: {exc}") from None
    return parser


def _rule(value: str, where: str) -> Rule:
    try:
        return Rule(value.strip())
    except ValueError:
        raise SettingsError(f"{where}: rule {value!r}; use one of "
                            + ", ".join(r.value for r in Rule)) from None


def _peer_settings(section, where: str) -> PeerSettings:
    kwargs = {}
    for name in _PEER_FIELDS:
        if name in section:
            try:
                kwargs[name] = (int if name == "alarm_after_failures" else float)(section[name])
            except ValueError:
                raise SettingsError(f"{where}: {name} must be a number") from None
            least = 0 if name == "silence_alarm_seconds" else (1 if name == "alarm_after_failures"
                                                               else 0.001)
            if kwargs[name] < least:
                raise SettingsError(f"{where}: {name} must be at least {least}")
    return PeerSettings(**kwargs)


def _key_fields(table: str, text: str | None, where: str) -> tuple[str, ...]:
    """A ``key_fields`` list: canonical fields of ``table``, comma-separated."""
    if text is None or not text.strip():
        return ()
    names = tuple(part.strip() for part in text.replace("\n", ",").split(",") if part.strip())
    unknown = [n for n in names if n not in FIELDS[table]]
    if unknown:
        raise SettingsError(f"{where}: key_fields {', '.join(unknown)} are not fields of "
                            f"{table} ({', '.join(FIELDS[table])})")
    return names


def parse_mapping(text: str, where: str) -> dict:
    mapping = {}
    for part in text.replace("\n", ",").split(","):
        if not part.strip():
            continue
        field_name, sep, column = part.partition("=")
        if not sep or not field_name.strip() or not column.strip():
            raise SettingsError(f"{where}: map entry {part.strip()!r} is not field=column")
        mapping[field_name.strip()] = column.strip()
    return mapping


def parse_agent(text: str, source: str = "<agent.ini>") -> AgentSettings:
    parser = _parser(text, source)
    if not parser.has_section("agent"):
        raise SettingsError(f"{source}: no [agent] section")
    agent = parser["agent"]
    missing = [k for k in ("database", "enterprise", "gateway_url", "secret") if not agent.get(k)]
    if missing:
        raise SettingsError(f"{source}: [agent] needs {', '.join(missing)}")
    tables = []
    for name in parser.sections():
        if not name.startswith("table:"):
            if name != "agent":
                raise SettingsError(f"{source}: unknown section [{name}]")
            continue
        table = name[len("table:"):].strip()
        if table not in TABLES:
            raise SettingsError(f"{source}: [{name}]: synced tables are {', '.join(TABLES)}")
        section = parser[name]
        unknown = set(section) - {"source", "map", "rule", "key_fields"}
        if unknown:
            raise SettingsError(f"{source}: [{name}]: unknown option {', '.join(sorted(unknown))}")
        mapping = parse_mapping(section.get("map", ""), f"[{name}]")
        strange = [f for f in mapping if f not in FIELDS[table]]
        if strange:
            raise SettingsError(f"{source}: [{name}]: map names {', '.join(strange)}, not fields of "
                                f"{table} ({', '.join(FIELDS[table])})")
        tables.append(TableMapping(table, section.get("source", table), mapping,
                                   _rule(section.get("rule", "enterprise_wins"), f"[{name}]"),
                                   _key_fields(table, section.get("key_fields"), f"[{name}]")))
    if not tables:
        raise SettingsError(f"{source}: no [table:items] or [table:stock] section")
    return AgentSettings(agent["database"], agent["enterprise"], agent["gateway_url"],
                         agent["secret"], agent.get("listen", "tcp:8090:interface=127.0.0.1"),
                         tuple(tables), _peer_settings(agent, "[agent]"),
                         agent.get("ca_file") or None)


def parse_peers(text: str, source: str = "<sync peers>") -> tuple[PeerSettings, list[EnterprisePeer]]:
    """The cluster's peers file: [defaults] (intervals) and one [enterprise:CODE] each."""
    parser = _parser(text, source)
    defaults = _peer_settings(parser["defaults"], "[defaults]") if parser.has_section(
        "defaults") else PeerSettings()
    peers = []
    for name in parser.sections():
        if name == "defaults":
            continue
        if not name.startswith("enterprise:") or not name[len("enterprise:"):].strip():
            raise SettingsError(f"{source}: unknown section [{name}]; use [enterprise:CODE]")
        section = parser[name]
        if not section.get("secret") or not section.get("agent_url"):
            raise SettingsError(f"{source}: [{name}] needs secret and agent_url")
        rules = {t: _rule(section.get(f"{t}_rule", "enterprise_wins"), f"[{name}]") for t in TABLES}
        keys = {t: _key_fields(t, section.get(f"{t}_key_fields"), f"[{name}]") for t in TABLES}
        peers.append(EnterprisePeer(name.split(":", 1)[1].strip(), section["secret"],
                                    section["agent_url"], rules, section.get("ca_file") or None,
                                    {t: k for t, k in keys.items() if k}))
    return defaults, peers


def tls_policy(ca_file: str | None, where: str):
    """The HTTPS trust policy of a ``ca_file`` setting (None: the system's trust roots)."""
    if not ca_file:
        return None
    try:
        with open(ca_file, "rb") as fh:
            pem = fh.read()
    except OSError as exc:
        raise SettingsError(f"{where}: cannot read ca_file {ca_file}: {exc.strerror}") from None
    try:
        from sync.client import trusting

        return trusting(pem)
    except ImportError:
        raise SettingsError(f"{where}: ca_file needs TLS support (pip install twisted[tls])") from None
    except Exception as exc:  # noqa: BLE001 - OpenSSL's errors have no common public root
        raise SettingsError(f"{where}: ca_file {ca_file} is not a PEM certificate ({exc})") from None


def load(path: str, parse):
    try:
        with open(path, encoding="utf-8") as fh:
            return parse(fh.read(), path)
    except OSError as exc:
        raise SettingsError(f"cannot read {path}: {exc.strerror}") from None
