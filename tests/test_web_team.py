"""skal label --web as a team: named annotators, overlap and Cohen's kappa on the team view,
adjudication, the export and finish buttons, Escape, un-skip, typed class names -- in a real
browser -- and the session's team rules, names and token without one."""

from __future__ import annotations

import csv
import json
import re
import time
import urllib.request

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import cohen_kappa_score
from test_web import (  # noqa: F401 - the fixtures are used by name
    SHOWN,
    Server,
    _request,
    browser,
    chromium,
    journal_labels,
    settled,
    shown,
)

pytest.importorskip("starlette", reason="the web extra is not installed: pip install skal[web]")

SMALL = ["--batch-size", "4", "--initial-size", "4"]


@pytest.fixture(scope="module")
def pool3(tmp_path_factory, digits_xy):
    """36 digits of classes 0, 1, 2."""
    X, y = digits_xy
    keep = np.flatnonzero(y < 3)[:36]
    folder = tmp_path_factory.mktemp("team")
    np.save(folder / "pool.npy", X[keep])
    return folder / "pool.npy", y[keep]


def page_of(browser, url):  # noqa: F811 - the fixture's value
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.wait_for_selector(SHOWN, timeout=20_000)
    return context, page, errors


def answer_with(page, key):
    i = shown(page)
    page.keyboard.type(key) if len(key) > 1 else page.keyboard.press(key)
    page.wait_for_function(
        "i => document.querySelector('#sample').dataset.index !== String(i)", arg=i,
        timeout=20_000)
    return i


def _records(path):
    from skal.io.journal import LabelJournal

    with LabelJournal(path, read_only=True) as j:
        return j.records()


# ----------------------------------------------------------------------------- browser


def test_two_named_annotators_overlap_kappa_and_adjudication(browser, pool3, tmp_path):  # noqa: F811
    pool, y = pool3
    journal = tmp_path / "team.sqlite"
    server = Server(pool, journal, "--classes", "0,1,2", "--overlap", "1", *SMALL,
                    workdir=tmp_path)
    try:
        ctx_a, ana, errors_a = page_of(browser, server.url + "&annotator=ana")
        assert ana.text_content("#who") == "labeling as ana" and ana.is_hidden("#who-form")
        first = [answer_with(ana, str(y[shown(ana)])) for _ in range(4)]
        settled(ana)
        ctx_b, ben, errors_b = page_of(browser, server.url + "&annotator=ben")
        seconds, given = [], {}
        for k in range(4):  # ana's samples come back to ben first, her answers hidden
            i = shown(ben)
            assert "second opinion" in ben.text_content("#why") and ben.is_hidden("#banner")
            given[i] = (int(y[i]) + 1) % 3 if k == 0 else int(y[i])  # one disagreement
            seconds.append(answer_with(ben, str(given[i])))
        settled(ben)
        assert sorted(seconds) == sorted(first)
        assert shown(ben) not in first  # never twice to the same person

        ana.click("#team-open")
        ana.wait_for_selector("#team:not([hidden])")
        pairs = ana.text_content("#team-pairs")
        expected = cohen_kappa_score([int(y[i]) for i in first], [given[i] for i in first])
        assert "ana · ben" in pairs and f"{expected:.2f}" in pairs, pairs
        assert "75%" in pairs
        conflict = ana.locator("#team-conflicts li")
        assert conflict.count() == 1
        wrong = seconds[0]
        assert conflict.get_attribute("data-index") == str(wrong)
        assert "ana: " in conflict.text_content() and "ben: " in conflict.text_content()
        conflict.locator(f"button[data-label='{y[wrong]}']").click()  # adjudicate
        ana.wait_for_function("() => !document.querySelector('#team-conflicts li')")
        assert not errors_a and not errors_b
        ctx_a.close()
        ctx_b.close()
    finally:
        server.stop()
    records = _records(journal)
    who = [(r["sample_id"], r["annotator"], r["strategy"]) for r in records]
    assert {(i, "ana") for i in first} <= {(s, a) for s, a, _ in who}
    assert {(i, "ben", "overlap") for i in first} <= set(who)
    assert who[-1] == (wrong, "ana", "adjudicated")
    assert journal_labels(journal)[wrong] == y[wrong]  # the adjudicated answer trains


def test_typed_names_escape_unskip_export_and_finish(browser, pool3, tmp_path):  # noqa: F811
    pool, y = pool3
    names = ["nought", "one", "onze"]
    typed = ["n", "one", "onz"]  # the shortest prefix of each class name
    journal = tmp_path / "solo.sqlite"
    server = Server(pool, journal, "--classes", ",".join(names), *SMALL, workdir=tmp_path)
    try:
        context, page, errors = page_of(browser, server.url)
        assert page.is_visible("#who-form")  # no name in the link: asked, not in the way
        page.fill("#who-name", "cleo")
        page.press("#who-name", "Enter")
        page.wait_for_function("() => document.querySelector('#who').textContent"
                               " === 'labeling as cleo'")
        truth = {}
        for _ in range(5):  # the first letters of a class name answer it
            i = shown(page)
            truth[answer_with(page, typed[y[i]])] = names[y[i]]
        skipped = answer_with(page, " ")
        settled(page)
        assert "Labels per class:" in page.text_content("#counts")
        item = page.locator(f"#history button[data-index='{skipped}']")
        assert "skipped" in item.text_content()
        before = shown(page)
        item.click()  # relabel mode on the skipped sample; Escape leaves it
        page.wait_for_function(
            "i => document.querySelector('#sample').dataset.index === String(i)", arg=skipped)
        assert page.is_visible("#banner")
        page.keyboard.press("Escape")
        page.wait_for_function(
            "i => document.querySelector('#sample').dataset.index === String(i)", arg=before)
        assert page.is_hidden("#banner")
        item.click()  # un-skip: label it from the history
        page.wait_for_function(
            "i => document.querySelector('#sample').dataset.index === String(i)", arg=skipped)
        answer_with(page, typed[y[skipped]])
        settled(page)
        truth[skipped] = names[y[skipped]]

        page.select_option("#export-format", "csv")
        with page.expect_download() as download:
            page.click("#export")
        with open(download.value.path(), newline="") as fh:
            rows = list(csv.DictReader(fh))
        current = {int(r["sample"]): r["label"] for r in rows if r["current"] == "true"}
        assert current == {i: lab for i, lab in truth.items()}
        assert [r["status"] for r in rows if int(r["sample"]) == skipped] == [
            "skipped", "labeled"]
        assert {r["annotator"] for r in rows} == {"cleo"} and "-1" not in current.values()

        page.click("#finish")
        page.wait_for_selector("#finished:not([hidden])", timeout=30_000)
        text = page.text_content("#finished")
        assert str(journal) in text and "trained on 6 labels" in text, text
        assert not errors
        context.close()
        server.proc.wait(30)  # the finish button stops the server
    finally:
        server.stop()
    assert server.proc.returncode == 0, server.log.read_text()
    assert "finished: 6 labels" in server.log.read_text()


# ----------------------------------------------------------------------------- HTTP


def _post(port, path, body, token):
    headers = {"X-Skal-Token": token, "Content-Type": "application/json"}
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method="POST",
                                 headers=headers, data=json.dumps(body).encode())
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_the_token_guards_stats_export_and_finish(pool3, tmp_path):
    pool, _ = pool3
    server = Server(pool, tmp_path / "j.sqlite", "--classes", "0,1,2", *SMALL,
                    workdir=tmp_path)
    try:
        base = f"http://127.0.0.1:{server.port}"
        for path in ("/api/stats", "/api/export", "/api/finish", "/api/adjudicate",
                     "/api/annotator"):
            assert _request(f"{base}{path}", "POST", {"Content-Type": "application/json"},
                            b"{}")[0] == 403, path
            wrong = {"X-Skal-Token": server.token[:-1], "Content-Type": "application/json"}
            assert _request(f"{base}{path}", "POST", wrong, b"{}")[0] == 403, path
            assert _request(f"{base}{path}?token={server.token}", "POST", {}, b"{}")[0] == 403
        assert _post(server.port, "/api/stats", {}, server.token)[0] == 200
        status, body = _post(server.port, "/api/export", {"format": "json"}, server.token)
        assert status == 200 and json.loads(body) == []
        status, body = _post(server.port, "/api/export", {"format": "xlsx"}, server.token)
        assert status == 400 and b"format must be one of csv, json, parquet" in body
    finally:
        server.stop()


# ----------------------------------------------------------------------------- no browser


def team_session(tmp_path, overlap=1.0):
    from sklearn.datasets import load_digits

    from skal import ActiveLearningClassifier, Campaign
    from skal.cli._web._render import choose_display
    from skal.cli._web._session import LabelSession
    from skal.io.journal import LabelJournal

    X, y = load_digits(return_X_y=True)
    learner = ActiveLearningClassifier(LogisticRegression(max_iter=200), n_instances=3,
                                       initial_size=3, random_state=0)
    campaign = Campaign(learner, X[:60] / 16, journal=LabelJournal(tmp_path / "t.sqlite"))
    return LabelSession(campaign, choose_display(64), list(range(10)), overlap=overlap), y


def test_overlap_rules_the_training_rule_and_a_restart(tmp_path):
    from skal.cli._web._session import SessionError

    s, y = team_session(tmp_path)
    try:
        ana, ben = s.hello("ana")["client"], s.hello("ben")["client"]
        mine = [x["index"] for x in s.next_samples(ana, 3)]
        for i in mine:
            s.answer(ana, i, int(y[i]))
        assert all(x["index"] not in mine for x in s.next_samples(ana, 3))  # not twice
        second = s.next_samples(ben, 3)
        assert [x["index"] for x in second] == mine
        assert all("answer" not in x and x["why"]["reason"] == "overlap" for x in second)
        s.answer(ben, mine[0], None)  # a second person's skip: the first label stays
        assert s.campaign.journal_.labels()[mine[0]] == y[mine[0]]
        s.answer(ben, mine[1], (int(y[mine[1]]) + 1) % 10)  # a conflict: latest trains
        s.answer(ben, mine[2], int(y[mine[2]]))
        assert s.campaign.journal_.labels()[mine[1]] != y[mine[1]]
        stats = s.stats()
        assert [c["index"] for c in stats["conflicts"]] == [mine[1]]
        assert stats["pairs"][0]["n"] == 2 and stats["pairs"][0]["agreement"] == 0.5
        with pytest.raises(SessionError, match="not a skip"):
            s.adjudicate(ben, mine[1], None)
        assert s.adjudicate(ben, mine[1], int(y[mine[1]]))["conflicts"] == []
        with pytest.raises(SessionError, match="was adjudicated by ben"):
            s.answer(ana, mine[1], 3)  # the adjudicated answer stays
        with pytest.raises(SessionError, match="was adjudicated"):
            s.undo(ana, mine[1])
        assert s.campaign.journal_.labels()[mine[1]] == y[mine[1]]
    finally:
        s.close()
    again, _ = team_session(tmp_path)  # a restart reads the same team from the journal
    try:
        stats = again.stats()
        assert stats["conflicts"] == [] and stats["n_adjudicated"] == 1
        assert dict(stats["answers"]) == {"ana": 3, "ben": 2}  # his skip: not recorded
        with pytest.raises(SessionError, match="was adjudicated"):
            again.answer(again.hello("cleo")["client"], mine[1], 3)
    finally:
        again.close()


def test_kappa_when_it_is_undefined():
    from skal.cli._team import TeamAnswers, kappa

    assert kappa([1, 1, 1], [1, 1, 1]) == (1.0, False)  # one class only: full agreement
    assert kappa([], []) == (None, False)  # nothing shared
    assert kappa([0, 1], [1, 0]) == (-1.0, True)
    team = TeamAnswers()
    for i in range(3):
        team.add(i, "cat", "ana")
        team.add(i, "cat", "ben")
    pair = team.agreement()["pairs"][0]
    assert (pair["kappa"], pair["defined"], pair["agreement"]) == (1.0, False, 1.0)


# (what, name, fragment of the error)
BAD_NAMES = [
    ("empty", "", "is empty"),
    ("too long", "x" * 41, "has 41 characters"),
    ("control characters", "ana\x07\x1b[31m", "has the character '\\x07'"),
    ("HTML", "<script>alert(1)</script>", "has the character '<'"),
    ("not text", 12, "must be a str"),
]


@pytest.mark.parametrize("name, fragment", [r[1:] for r in BAD_NAMES],
                         ids=[r[0] for r in BAD_NAMES])
def test_bad_names_from_a_page_are_refused(tmp_path, name, fragment):
    from skal.cli._web._session import SessionError

    s, _ = team_session(tmp_path)
    try:
        client = s.hello()["client"]
        with pytest.raises(SessionError, match=re.escape(fragment)) as refused:
            s.rename(client, name)
        assert refused.value.status == 400
        if name != "":  # an empty name in a link means "no name": the default
            with pytest.raises(SessionError, match=re.escape(fragment)):
                s.hello(name)
        assert s.rename(client, "Ana Lima")["annotator"] == "Ana Lima"
    finally:
        s.close()


def test_finish_refits_once_and_stops_handing_out(tmp_path):
    s, y = team_session(tmp_path, overlap=0.0)
    try:
        a = s.hello("ana")["client"]
        for x in s.next_samples(a, 3):
            s.answer(a, x["index"], int(y[x["index"]]))
        s.campaign.wait()
        fits = len(s.campaign.history_)
        stopped = []
        s.on_finish = lambda: stopped.append(time.monotonic())
        done = s.finish(a)
        assert done["journal"] == str(tmp_path / "t.sqlite") and done["n_labeled"] == 3
        assert len(s.campaign.history_) == fits + 1 and len(stopped) == 1
        assert s.next_samples(a, 3) == [] and s.state()["finished"] == done
        assert s.finish(a) == done and len(s.campaign.history_) == fits + 1  # once
    finally:
        s.close()
