"""``authgate serve`` freezes what startup built out of full garbage collections
(``bootstrap.freeze_startup_heap``); objects made later are still collected."""

from __future__ import annotations

import gc

from authgate.bootstrap import freeze_startup_heap


def test_the_startup_heap_is_frozen_and_later_cycles_are_still_collected() -> None:
    try:
        freeze_startup_heap()
        assert gc.get_freeze_count() > 0

        class Node:
            other: object = None

        a, b = Node(), Node()
        a.other, b.other = b, a
        del a, b
        assert gc.collect() >= 2
    finally:
        gc.unfreeze()
