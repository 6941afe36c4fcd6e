"""`merp sim smsc` runs the ISMG beside the SMSC; `merp sim load --protocol cmpp3` targets it."""
from __future__ import annotations

import pytest_twisted
from twisted.internet import reactor

from sim.cli import build_smsc_service, smsc_options
from tests.sim.test_sim_cli import parser


def test_the_smsc_command_listens_for_cmpp_on_7890_by_default():
    args = parser().parse_args(["sim", "smsc"])
    assert (args.cmpp_listen, args.sp_id, args.shared_secret, args.cmpp_window) == \
        ("tcp:7890", "901234", "secret", 16)


def test_load_takes_a_protocol():
    args = parser().parse_args(["sim", "load", "--protocol", "cmpp3", "--cmpp-listen", "tcp:0"])
    assert (args.protocol, args.cmpp_listen) == ("cmpp3", "tcp:0")


def test_services_built_in_code_have_no_ismg_unless_asked():
    assert smsc_options().cmpp_listen == ""
    assert build_smsc_service(smsc_options(listen="tcp:0", control=None), reactor).ismg is None


@pytest_twisted.inlineCallbacks
def test_the_ismg_listens_beside_the_smsc_and_shares_its_handsets():
    options = smsc_options(listen="tcp:0:interface=127.0.0.1", control=None,
                           cmpp_listen="tcp:0:interface=127.0.0.1", sp_id="900001")
    service = build_smsc_service(options, reactor)
    service.startService()
    try:
        yield service.when_listening()
        assert service.cmpp_port() not in (None, service.smpp_port())
        assert service.ismg.phonebook is service.smsc.phonebook
        assert service.ismg.settings.sp_id == "900001"
    finally:
        yield service.stopService()
