from __future__ import annotations

import pytest

from hookline.errors import SecretsUnreadable
from hookline.store.sealing import (
    OPENED_KEPT,
    InvalidSecretKey,
    Sealer,
    generate_key,
    parse_keys,
)

OLD, NEW = generate_key(), generate_key()


def test_a_sealed_value_opens_and_does_not_show_the_plaintext() -> None:
    sealer = Sealer([NEW])
    sealed = sealer.seal("whsec_abc")
    assert sealed.startswith("fernet:")
    assert "whsec_abc" not in sealed
    assert sealer.seal("whsec_abc") != sealed  # a fresh IV each time
    assert sealer.open(sealed) == "whsec_abc"


def test_the_newest_key_seals_and_every_key_opens() -> None:
    by_old = Sealer([OLD]).seal("s1")
    both = Sealer([NEW, OLD])
    assert both.open(by_old) == "s1"
    assert Sealer([NEW]).open(both.seal("s2")) == "s2"


def test_a_value_sealed_with_another_key_is_unreadable() -> None:
    with pytest.raises(SecretsUnreadable):
        Sealer([NEW]).open(Sealer([OLD]).seal("s"))


def test_values_marked_plain_open_as_they_are_and_others_are_refused() -> None:
    assert Sealer([NEW]).open("plain:whsec_x") == "whsec_x"
    with pytest.raises(SecretsUnreadable):
        Sealer([NEW]).open("whsec_x")


def test_keys_never_show() -> None:
    sealer = Sealer([NEW, OLD])
    assert NEW not in repr(sealer)
    assert repr(sealer) == "Sealer(keys=2)"


def test_parse_keys_takes_commas_and_lines_newest_first() -> None:
    assert parse_keys(f" {NEW} ,{OLD},") == (NEW, OLD)
    assert parse_keys(f"{NEW}\n{OLD}\n") == (NEW, OLD)


@pytest.mark.parametrize(
    "bad", ["", "not-a-key", "c2hvcnQ=", OLD[:-4]], ids=["empty", "word", "short", "truncated"]
)
def test_parse_keys_refuses_what_is_not_a_key_without_repeating_it(bad: str) -> None:
    with pytest.raises(InvalidSecretKey) as raised:
        parse_keys(f"{NEW},{bad}" if bad else bad)
    if bad:
        assert bad not in str(raised.value)


def test_a_token_is_opened_once_and_the_kept_texts_stay_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sealer = Sealer([NEW])
    tokens = [sealer.seal(f"whsec_{n}") for n in range(OPENED_KEPT + 1)]
    decrypt = sealer._fernet.decrypt
    opened: list[object] = []

    def counting(token: bytes) -> bytes:
        opened.append(token)
        return decrypt(token)

    monkeypatch.setattr(sealer._fernet, "decrypt", counting)
    assert [sealer.open(tokens[0]) for _ in range(3)] == ["whsec_0"] * 3
    assert len(opened) == 1
    for n, token in enumerate(tokens):
        assert sealer.open(token) == f"whsec_{n}"
    assert len(sealer._opened) <= OPENED_KEPT
    # A token that does not open is refused every time, never kept.
    foreign = Sealer([OLD]).seal("s")
    for _ in range(2):
        with pytest.raises(SecretsUnreadable):
            sealer.open(foreign)
    assert foreign not in sealer._opened
