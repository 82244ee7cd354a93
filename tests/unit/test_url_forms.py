"""Every URL form of the table, judged by the URL check alone (no network)."""

from __future__ import annotations

import pytest

from hookline.domain.egress import parse_networks, url_problem
from tests.support.url_forms import FORMS, OK, Form

LOOPBACK = parse_networks(["127.0.0.0/8"])


@pytest.mark.parametrize("form", FORMS, ids=lambda f: f.template)
def test_the_url_check_decides_each_form_as_the_table_says(form: Form) -> None:
    for allow, expected in (((), form.without_allow), (LOOPBACK, form.with_loopback)):
        problem = url_problem(form.url(8080), allow)
        assert (problem[0] if problem else OK) == expected, problem
