"""`merp demo --web ...`: the demo's approval links and WAP Push point at the port it serves."""
from gateway.runner import demo_config


def test_demo_links_follow_the_web_endpoint():
    config = demo_config("sqlite:///x.db", 2775, "tcp:28080:interface=127.0.0.1")
    assert config.web.public_url == "http://127.0.0.1:28080"
    assert config.web.listen == "tcp:28080:interface=127.0.0.1"


def test_demo_without_web_server_keeps_the_default_public_url():
    config = demo_config("sqlite:///x.db", 2775)
    assert config.web.listen == ""
    assert config.web.public_url == "http://127.0.0.1:8080"
