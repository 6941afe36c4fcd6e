"""The interfaces run over TLS with a Twisted ssl: endpoint; a client that does not trust
the certificate is refused by its own TLS check. Twisted's TLS needs pyOpenSSL
(twisted[tls]); without it this test is skipped."""
from __future__ import annotations

import datetime

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.endpoints import serverFromString
from twisted.web.resource import Resource
from twisted.web.server import Site

from sync.client import PeerError, SyncClient, trusting
from sync.http import SyncEndpoints
from sync.side import Side
from sync.signing import Verifier
from sync.spec import Role

pytest.importorskip("OpenSSL", reason="Twisted TLS needs pyOpenSSL (pip install twisted[tls])")


def _self_signed(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    (tmp_path / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption()))
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    return cert_pem


@pytest_twisted.inlineCallbacks
def test_a_heartbeat_over_tls_with_a_trusted_self_signed_certificate(tmp_path):
    cert_pem = _self_signed(tmp_path)
    side = Side(engine=None, role=Role.ENTERPRISE, scope="DEMO")
    root = Resource()
    root.putChild(b"sync", SyncEndpoints(side, Verifier(b"k", reactor)))
    endpoint = serverFromString(
        reactor, f"ssl:0:interface=127.0.0.1:privateKey={tmp_path / 'key.pem'}:"
                 f"certKey={tmp_path / 'cert.pem'}")
    port = yield endpoint.listen(Site(root))
    base = f"https://localhost:{port.getHost().port}/sync"
    trusted = SyncClient(reactor, base, b"k", timeout=5, tls_policy=trusting(cert_pem))
    untrusted = SyncClient(reactor, base, b"k", timeout=5)
    try:
        answer = yield trusted.command("heartbeat")
        assert answer["role"] == "enterprise"
        with pytest.raises(PeerError):
            yield untrusted.command("heartbeat")
    finally:
        yield trusted.close()
        yield untrusted.close()
        yield port.stopListening()


@pytest_twisted.inlineCallbacks
def test_the_agent_ini_ca_file_makes_the_client_trust_that_certificate(tmp_path):
    from sync import example
    from sync.settings import parse_agent, tls_policy

    _self_signed(tmp_path)
    endpoint = serverFromString(
        reactor, f"ssl:0:interface=127.0.0.1:privateKey={tmp_path / 'key.pem'}:"
                 f"certKey={tmp_path / 'cert.pem'}")
    root = Resource()
    root.putChild(b"sync", SyncEndpoints(Side(engine=None, role=Role.ENTERPRISE, scope="DEMO"),
                                         Verifier(b"k", reactor)))
    port = yield endpoint.listen(Site(root))
    settings = parse_agent(example.EXAMPLE_INI.replace(
        "# ca_file = /etc/merp/gateway-ca.pem", f"ca_file = {tmp_path / 'cert.pem'}"))
    assert settings.ca_file == str(tmp_path / "cert.pem")
    client = SyncClient(reactor, f"https://localhost:{port.getHost().port}/sync", b"k",
                        timeout=5, tls_policy=tls_policy(settings.ca_file, "[agent]"))
    try:
        assert (yield client.command("heartbeat"))["role"] == "enterprise"
    finally:
        yield client.close()
        yield port.stopListening()


def test_a_ca_file_that_is_missing_or_not_a_certificate_is_explained(tmp_path):
    from sync.settings import SettingsError, tls_policy

    with pytest.raises(SettingsError, match="cannot read ca_file"):
        tls_policy(str(tmp_path / "nope.pem"), "[agent]")
    (tmp_path / "junk.pem").write_text("not a certificate")
    with pytest.raises(SettingsError, match="is not a PEM certificate"):
        tls_policy(str(tmp_path / "junk.pem"), "[agent]")
    assert tls_policy(None, "[agent]") is None
