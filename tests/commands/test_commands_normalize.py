"""Width, case and separators: what a phone sends becomes one list of words."""
from __future__ import annotations

import pytest

from commands.normalize import fold, normalize_width, split_args


@pytest.mark.parametrize(
    "text, words",
    [
        ("STOCK X100", ["STOCK", "X100"]),
        ("ＳＴＯＣＫ　Ｘ１００", ["STOCK", "X100"]),  # full-width letters, ideographic space
        ("KC,X100", ["KC", "X100"]),
        ("KC，X100", ["KC", "X100"]),  # full-width comma
        ("KC#X100+HALL1", ["KC", "X100", "HALL1"]),
        ("KC＃X100＋HALL1", ["KC", "X100", "HALL1"]),
        ("  KC ,, ## X100 ++ HALL1  ", ["KC", "X100", "HALL1"]),  # runs of separators
        ("KC\tX100\nHALL1", ["KC", "X100", "HALL1"]),
        ("库存X100", ["库存X100"]),  # glued words are the registry's business
        ("", []),
        (" ,#+ ", []),
    ],
)
def test_split_args(text, words):
    assert split_args(text) == words


def test_arguments_keep_their_case_while_keywords_fold():
    assert split_args("kc Mate") == ["kc", "Mate"]
    assert fold("ＫＣ") == fold("kc") == fold("KC") == "kc"


def test_full_width_question_mark_becomes_ascii():
    assert normalize_width("？") == "?"
