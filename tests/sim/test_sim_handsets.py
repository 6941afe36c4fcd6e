"""sim.handsets: a handset keeps its newest messages; sequence numbers keep counting."""
from sim.handsets import Handset


def _receive(handset, count):
    for n in range(1, count + 1):
        handset.receive("106571234501", f"msg {n}", float(n))


def test_an_inbox_keeps_the_newest_messages_and_counts_every_one():
    handset = Handset("13800000001", keep=3)
    _receive(handset, 5)

    assert [m.text for m in handset.inbox] == ["msg 3", "msg 4", "msg 5"]
    assert [m.seq for m in handset.inbox] == [3, 4, 5]
    assert handset.last_seq == 5


def test_a_cursor_reads_what_came_after_it_among_the_kept():
    handset = Handset("13800000001", keep=3)
    _receive(handset, 5)

    assert [m.seq for m in handset.messages_after(0)] == [3, 4, 5]  # older ones are gone
    assert [m.seq for m in handset.messages_after(3)] == [4, 5]
    assert handset.messages_after(5) == []
    assert handset.messages_after(9) == []
    handset.receive("106571234501", "msg 6", 6.0)
    assert [m.text for m in handset.messages_after(5)] == ["msg 6"]


def test_below_the_bound_nothing_is_dropped():
    handset = Handset("13800000001")
    _receive(handset, 50)

    assert [m.seq for m in handset.messages_after(0)] == list(range(1, 51))
    assert [m.seq for m in handset.messages_after(48)] == [49, 50]
