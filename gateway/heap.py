"""The garbage collector's settings for a long-running merp process (the gateway, the
simulator under load).

Two measured costs (bench/README.md "Garbage collection and compiled statements"):

* A full collection walks every object alive, and most of the heap is start-up's
  (modules, classes, SQLAlchemy mappers and compiled statements, templates): ~100 ms
  with the reactor stopped, the longest pause of a WAP page. Those objects live for the
  whole run, so they are moved out of the collector's sight (`gc.freeze`).
* Python's default first threshold (700 new container objects) was set for small
  programs. A dispatcher batch builds tens of thousands of objects (rows, ORM states,
  replies) that live until the batch commits; with 700 the collector walks them dozens
  of times a batch and promotes them into older generations, where they are walked
  again. With 10,000 most of them die by reference counting before any collection sees
  them: on the ORDER/APPROVE/STOCK mix a gateway's collections took ~1.3 s of its ~10 s
  of CPU per 6,000 commands, ~0.5-0.8 s with 10,000. Cyclic garbage is still collected,
  only in larger steps.
"""
from __future__ import annotations

import gc

#: (first, second, third) thresholds: see the module's docstring.
THRESHOLDS = (10_000, 10, 10)


def settle() -> None:
    """Call once start-up is done, just before the reactor runs."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
