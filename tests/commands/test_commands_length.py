"""SMS sizing: the reply limits (one SMS where possible, never more than three)."""
from __future__ import annotations

import pytest

from commands.length import clip, clip_keeping, clip_word, is_gsm, join_fitting, parts_needed


@pytest.mark.parametrize(
    "text, parts",
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("a" * 459, 3),
        ("a" * 460, 4),
        ("€" * 80, 1),  # extension characters take two septets
        ("€" * 81, 2),
        ("€" * 153, 3),  # 306 septets, but a pair never straddles parts: 152 + 152 + 2
        ("库" * 70, 1),
        ("库" * 71, 2),
        ("库" * 201, 3),
        ("库" * 202, 4),
        ("a" * 69 + "库", 1),  # one Chinese character makes the whole text UCS-2
    ],
)
def test_parts_needed(text, parts):
    assert parts_needed(text) == parts


def test_gsm_detection():
    assert is_gsm("X100: WH1 250, HALL1 12")
    assert not is_gsm("一厅 12")
    assert not is_gsm("…")


def test_join_fitting_keeps_short_lists_whole():
    assert join_fitting("Sites: ", ["A", "B"]) == "Sites: A, B"


def test_join_fitting_truncates_with_a_count_of_the_rest():
    items = [f"SITE{n:03} {n}" for n in range(100)]
    text = join_fitting("X100: ", items)
    assert parts_needed(text) <= 3
    shown = text.count("SITE")
    assert text.endswith(f"...(+{100 - shown})")
    assert "…" not in text  # stays GSM 7-bit


def test_join_fitting_uses_the_unicode_ellipsis_in_chinese_text():
    items = [f"网点{n} {n}" for n in range(100)]
    text = join_fitting("X100 库存: ", items)
    assert parts_needed(text) <= 3 and "…(+" in text


def test_join_fitting_can_fit_one_sms():
    items = [f"S{n}" for n in range(100)]
    assert parts_needed(join_fitting("", items, max_parts=1)) == 1


def test_clip_cuts_to_three_sms_with_an_ellipsis():
    assert clip("short") == "short"
    clipped = clip("库" * 500)
    assert parts_needed(clipped) == 3 and clipped.endswith("…")
    assert clip("a" * 1000).endswith("...") and parts_needed(clip("a" * 1000)) == 3


def test_clip_word():
    assert clip_word("X100") == "X100"
    assert clip_word("Y" * 50) == "Y" * 20 + "..."


def test_clip_keeping_cuts_the_text_and_keeps_the_link_whole():
    link = " http://w.example/wap/doc/1001?exp=1795569581&sig=4ae1083fa74952b2a549d126d8971e94"
    assert clip_keeping("待审批: 订单1001", link) == "待审批: 订单1001" + link
    clipped = clip_keeping("待审批: 订单1001 " + "张" * 300, link)
    assert parts_needed(clipped) == 3 and clipped.endswith("…" + link)
    assert clipped.startswith("待审批: 订单1001 张")


def test_clip_keeping_clips_everything_when_the_tail_alone_is_too_long():
    clipped = clip_keeping("head ", "x" * 600)
    assert parts_needed(clipped) == 3 and clipped.startswith("head x") and clipped.endswith("...")
