"""A webhook's share of a worker's send slots: earned with answers, halved without."""

from __future__ import annotations

from hookline.domain.shares import SendShares


def test_a_webhook_starts_with_an_eighth_and_earns_the_rest_with_answers() -> None:
    shares = SendShares(64)
    assert shares.limit("w") == 8
    for i in range(10):
        shares.answered("w", float(i))
    assert shares.limit("w") == 18
    for i in range(100):
        shares.answered("w", float(i))
    assert shares.limit("w") == 64
    assert shares.limit("other") == 8


def test_every_send_without_an_answer_halves_it_down_to_one() -> None:
    shares = SendShares(64)
    shares.unanswered("w", 0.0)
    assert shares.limit("w") == 4
    for _ in range(5):
        shares.unanswered("w", 1.0)
    assert shares.limit("w") == 1
    shares.answered("w", 2.0)
    assert shares.limit("w") == 2


def test_small_ceilings_start_at_one_and_never_pass_the_ceiling() -> None:
    shares = SendShares(2)
    assert shares.limit("w") == 1
    shares.answered("w", 0.0)
    shares.answered("w", 0.0)
    assert shares.limit("w") == 2
    one = SendShares(1)
    one.answered("w", 0.0)
    one.unanswered("w", 0.0)
    assert one.limit("w") == 1


def test_webhooks_not_sent_to_for_a_while_are_forgotten_unless_busy() -> None:
    shares = SendShares(64, forget_after=600)
    shares.unanswered("dead", 0.0)
    shares.unanswered("busy", 0.0)
    shares.answered("recent", 500.0)
    shares.prune(700.0, {"busy": 3})
    assert len(shares) == 2
    assert shares.limit("dead") == 8  # starts again from the start
    assert shares.limit("busy") == 4
    assert shares.limit("recent") == 9
