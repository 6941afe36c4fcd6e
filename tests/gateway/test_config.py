"""The typed config: defaults, coercion, clear errors, and the example kept in sync."""
from pathlib import Path

import pytest

from gateway import config
from gateway.config import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_an_empty_file_gives_every_default():
    cfg = config.parse("")
    assert cfg.gateway.database == "sqlite:///merp.db"
    assert cfg.outbox.max_attempts == 8
    assert cfg.links == {}
    assert cfg.db_threads == 1


def test_link_sections_are_typed_and_named():
    cfg = config.parse(
        "[gateway]\ndatabase = mysql+pymysql://root@127.0.0.1/test\n"
        "[link:cm1]\nendpoint = tcp:host=10.0.0.1:port=2775\nwindow = 32\nrate = 50.5\n"
        "mo_id_tag = 0x1401\n"
    )
    link = cfg.links["cm1"]
    assert (link.window, link.rate, link.mo_id_tag) == (32, 50.5, 0x1401)
    assert link.endpoint == "tcp:host=10.0.0.1:port=2775"
    assert cfg.db_threads == 4


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("[gateway]\ndatabse = x\n", "unknown option 'databse'"),
        ("[link:a]\nwindow = many\n", "expected int"),
        ("[smsc]\nx = 1\n", "unknown section [smsc]"),
        ("[link:a]\nprotocol = ucp\n", "not supported"),
        ("[link:]\n", "needs a name"),
        ("[link:a]\nbind_mode = tx+rx\n", "use transceiver, transmitter or receiver"),
        ("not an ini file", "merp.ini"),
    ],
)
def test_bad_configuration_is_refused_with_a_message_naming_the_problem(text, fragment):
    with pytest.raises(ConfigError) as err:
        config.parse(text, "merp.ini")
    assert fragment in str(err.value)


def test_the_example_file_is_what_the_code_documents():
    """merp.ini.example is generated from the definitions; regenerate it when they change."""
    shipped = (ROOT / "merp.ini.example").read_text(encoding="utf-8")
    assert shipped.strip() == config.example().strip()


def test_the_example_parses_back_to_the_defaults():
    cfg = config.parse(config.example())
    assert cfg.gateway == config.GatewaySection()
    assert cfg.links["smsc1"] == config.LinkSection()


def test_merp_sim_with_no_action_runs_the_smsc_and_the_ismg_together(monkeypatch):
    """`merp sim` alone = `merp sim smsc` with the ISMG (CMPP) listening too."""
    from gateway import cli
    import sim.cli

    seen = {}
    monkeypatch.setattr(sim.cli, "cmd_smsc", lambda options: seen.setdefault("options", options) and 0)
    assert cli.main(["sim"]) == 0
    options = seen["options"]
    assert options.listen.startswith("tcp:2775") and options.cmpp_listen == "tcp:7890"
