"""commands/ may not import gateway/, so `commands.length` repeats the gateway's SMS
arithmetic (counting only). These properties pin the two together: whatever text a
command answers, the number of SMS it says the reply takes is the number the gateway
sends, and both pick the same coding."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from commands.length import is_gsm, parts_needed
from gateway.text import coding as gateway_coding
from gateway.text import gsm7

# GSM basic and extension characters, CJK, an emoji (a surrogate pair in UCS-2), and
# Latin letters outside GSM: the places where the two counts could disagree.
ALPHABET = st.sampled_from(list("aZ0 @£€^{}[]~|\\\n") + ["库", "存", "订", "😀", "ā", "ł"])
TEXTS = st.text(alphabet=ALPHABET, max_size=700)


@settings(max_examples=400, deadline=None)
@given(TEXTS)
def test_the_command_layer_counts_the_parts_the_gateway_sends(text):
    coding, parts = gateway_coding.split(text)
    assert parts_needed(text) == len(parts)
    assert is_gsm(text) == gsm7.is_gsm7(text) == (coding == gateway_coding.GSM7)


def test_the_edges_of_one_and_two_parts_agree():
    for text in ("a" * 160, "a" * 161, "€" * 80, "€" * 81, "库" * 70, "库" * 71, "😀" * 35, "😀" * 36,
                 "a" * 152 + "€"):
        assert parts_needed(text) == len(gateway_coding.split(text)[1]), text
