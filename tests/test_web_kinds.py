"""skal label --web for numbers and label sets: in Chromium, a number typed (a bad one refused
in the page, nothing sent), undo, relabel from the history, kill -9 and resume, export; label
sets toggled by keys (visible), confirmed with Enter, none of these vs skip, resume, export;
the session's refusals of bad answers table-driven, nothing written."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_web import (  # noqa: F401 - the fixtures are used by name
    Server,
    browser,
    chromium,
    journal_labels,
    settled,
    shown,
)

from skal import ActiveLearningClassifier, ActiveLearningRegressor, Campaign
from skal.cli._kinds import campaign_learner

pytest.importorskip("starlette", reason="the web extra is not installed: pip install skal[web]")

SMALL = ["--batch-size", "3", "--initial-size", "3"]


@pytest.fixture
def pool(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20, 3)).astype(np.float32)
    np.save(tmp_path / "pool.npy", X)
    return tmp_path / "pool.npy", np.round(X @ [1.0, 2.0, -1.0] * 10, 2)


def open_page(browser, url):  # noqa: F811 - the fixture's value
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.wait_for_selector("#sample:not([data-index=''])", timeout=20_000)
    return context, page, errors


def next_shown(page, index):
    page.wait_for_function(
        "i => document.querySelector('#sample').dataset.index !== String(i)", arg=index,
        timeout=20_000)
    return shown(page)


def exported(server) -> list:
    import urllib.request

    req = urllib.request.Request(
        f"http://127.0.0.1:{server.port}/api/export", method="POST",
        headers={"X-Skal-Token": server.token, "Content-Type": "application/json"},
        data=json.dumps({"format": "json"}).encode())
    with urllib.request.urlopen(req, timeout=30) as response:
        assert response.status == 200
        return json.loads(response.read())


def test_numbers_typed_refused_undone_relabeled_then_kill_and_resume(browser, pool,  # noqa: F811
                                                                      tmp_path):
    path, truth = pool
    journal = tmp_path / "j.sqlite"
    args = ["--target", "number", "--model", "linear", *SMALL]
    server = Server(path, journal, *args, workdir=tmp_path)
    try:
        context, page, errors = open_page(browser, server.url)
        assert page.is_visible("#number") and not page.is_visible("#buttons")
        expected = {}
        for _ in range(5):
            i = shown(page)
            page.fill("#number", str(truth[i]))
            page.press("#number", "Enter")
            expected[i] = float(truth[i])
            next_shown(page, i)
        i = shown(page)
        for bad in ("abc", "1e999", "nan", ""):  # refused in the page: nothing is sent
            page.fill("#number", bad)
            page.press("#number", "Enter")
            assert "number" in page.text_content("#status")
        assert page.evaluate("window.skal.sent.length") == 5 and shown(page) == i
        settled(page)
        assert page.text_content("#counts") == ""  # no class counts for numbers

        last = list(expected)[-1]
        page.click("#undo")  # the last answer comes back, to be answered again
        page.wait_for_function(
            "i => document.querySelector('#sample').dataset.index === String(i)", arg=last)
        settled(page)
        del expected[last]
        assert last not in journal_labels(journal)
        page.fill("#number", "-1")  # -1 is a number, not a skip
        page.press("#number", "Enter")
        expected[last] = -1.0
        settled(page)

        first = list(expected)[0]  # relabel from the history: the old number is in the box
        page.click(f"#history button[data-index='{first}']")
        page.wait_for_function(
            "i => document.querySelector('#sample').dataset.index === String(i)", arg=first)
        assert page.input_value("#number") == str(expected[first])
        assert " ± " in page.text_content("#guess")  # fetched now: BayesianRidge's guess
        page.fill("#number", "42.5")
        page.press("#number", "Enter")
        expected[first] = 42.5
        settled(page)
        assert not errors
        context.close()
        server.kill9()
        assert journal_labels(journal) == expected  # every acknowledged answer

        server = Server(path, journal, *args, port=server.port, workdir=tmp_path)
        context, page, errors = open_page(browser, server.url)
        assert "5 labeled" in page.text_content("#progress")
        assert shown(page) not in expected
        rows = [r for r in exported(server) if r["current"]]
        assert {r["sample"]: r["label"] for r in rows} == expected
        assert not errors
        context.close()
    finally:
        server.stop()


def test_label_sets_toggled_confirmed_none_vs_skip_then_kill_and_resume(browser, pool,  # noqa: F811
                                                                         tmp_path):
    path, _ = pool
    journal = tmp_path / "j.sqlite"
    args = ["--target", "set", "--classes", "cat,dog,bird", *SMALL]
    server = Server(path, journal, *args, workdir=tmp_path)
    try:
        context, page, errors = open_page(browser, server.url)
        assert page.is_visible("#confirm") and not page.is_visible("#number-form")
        expected = {}
        for keys, answer in ((["1", "3"], [1, 0, 1]), (["2", "2", "1"], [1, 0, 0]),
                             ([], [0, 0, 0]), (["2"], [0, 1, 0])):
            i = shown(page)
            for key in keys:
                page.keyboard.press(key)
            on = page.eval_on_selector_all("#buttons button.on", "bs => bs.map(b => b.dataset"
                                           ".label)")
            assert on == [c for c, v in zip(["cat", "dog", "bird"], answer) if v]
            page.keyboard.press("Enter")
            expected[i] = tuple(answer)
            next_shown(page, i)
        i = shown(page)
        page.keyboard.press(" ")  # Space skips: not "none of these"
        expected[i] = -1
        next_shown(page, i)
        settled(page)
        assert "Samples per label: cat 2 · dog 1 · bird 1" in page.text_content("#counts")
        assert journal_labels(journal) == expected
        assert not errors
        context.close()
        server.kill9()

        server = Server(path, journal, *args, port=server.port, workdir=tmp_path)
        context, page, errors = open_page(browser, server.url)
        assert "4 labeled, 1 skipped" in page.text_content("#progress")
        i = shown(page)
        assert i not in expected
        page.keyboard.press("3")
        page.keyboard.press("Enter")
        expected[i] = (0, 0, 1)
        next_shown(page, i)
        settled(page)
        assert journal_labels(journal) == expected
        rows = {r["sample"]: r["label"] for r in exported(server) if r["current"]}
        assert rows[i] == [0, 0, 1] and rows[list(expected)[4]] is None
        assert not errors
        context.close()
    finally:
        server.stop()


# ----------------------------------------------------------------------------- the session


def _session(tmp_path, target):
    from sklearn.linear_model import BayesianRidge, LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    from skal.cli._web._render import choose_display
    from skal.cli._web._session import LabelSession
    from skal.io.journal import LabelJournal

    X = np.random.default_rng(0).normal(size=(10, 3))
    if target == "number":
        learner = ActiveLearningRegressor(BayesianRidge(), n_instances=2, initial_size=2)
        classes = None
    else:
        learner = ActiveLearningClassifier(OneVsRestClassifier(LogisticRegression()),
                                           n_instances=2, initial_size=2)
        classes = ["cat", "dog", "bird"]
    journal = LabelJournal(tmp_path / f"{target}.sqlite")
    campaign = Campaign(campaign_learner(learner, target), X, journal=journal)
    session = LabelSession(campaign, choose_display(3), classes)
    client = session.hello()["client"]
    return session, client, session.next_samples(client, 2)[0]["index"], journal


@pytest.mark.parametrize("target, label, fragment", [
    ("number", float("nan"), "not a finite number"),
    ("number", float("inf"), "not a finite number"),
    ("number", 1e308 * 10, "not a finite number"),
    ("number", "3.5", "a regression answer is a number"),
    ("number", True, "True is not a number"),
    ("number", [1.0], "a regression answer is a number"),
    ("set", [1, 0], "a list of 3 0/1 values"),
    ("set", [1, 0, 2], "a list of 3 0/1 values"),
    ("set", [True, False, False], "a list of 3 0/1 values"),
    ("set", "cat", "a list of 3 0/1 values"),
    ("set", 1, "a list of 3 0/1 values"),
])
def test_bad_answers_are_refused_and_nothing_is_written(tmp_path, target, label, fragment):
    from skal.cli._web._session import SessionError

    session, client, i, journal = _session(tmp_path, target)
    with pytest.raises(SessionError, match=fragment):
        session.answer(client, i, label)
    assert journal.labels() == {}
    good = -1 if target == "number" else [0, 0, 0]  # -1 a number, [0, 0, 0] none of these
    session.answer(client, i, good)
    assert journal.labels() == {i: -1.0 if target == "number" else (0, 0, 0)}
    hello = session.hello()
    assert hello["target"] == target and hello["fixed_classes"]
    assert session.state()["class_counts"] == ([] if target == "number" else
                                               [["cat", 0], ["dog", 0], ["bird", 0]])
    session.close()
