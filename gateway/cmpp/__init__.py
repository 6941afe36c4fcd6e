"""CMPP 2.0 / 3.0: pure codec (`pdu`, `msgid`, `framing`), sans-IO SP session, thin
protocol and the `CmppLink` the pipeline drives exactly like an `SmppLink`."""
