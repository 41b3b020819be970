"""skal label --web killed with SIGKILL mid-session and started again on the same journal: the
page's export button and ``skal export`` then hold every answer the page showed as saved,
once, as the sample's current answer, with the name of the person who gave it; the page's
recent answers show each sample's key (hostile ones as text)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pandas as pd
from test_web import (  # noqa: F401 - the fixtures are used by name
    Server,
    browser,
    chromium,
    journal_labels,
    open_page,
    settled,
    shown,
)

CLASSES = "a,b,c"
SMALL = ["--classes", CLASSES, "--id-column", "id", "--batch-size", "4", "--initial-size", "4"]


def table_pool(folder, n=40):
    """A CSV of ``n`` rows keyed by ``id`` (half of the keys HTML); the class (a, b, c)
    follows the column ``x``."""
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 3, n)
    ids = [f"k-{k:03}" if k % 2 else f"<img src=x onerror=alert({k})>&amp;{k}"
           for k in range(n)]
    frame = pd.DataFrame({"id": ids, "x": x.round(3),
                          "noise": rng.normal(size=n).round(3)})
    frame.to_csv(folder / "rows.csv", index=False)
    return folder / "rows.csv", frame["id"].tolist(), ["abc"[int(v)] for v in x]


def answer(page, truth, n, wait=True):
    """Press the true class of ``n`` samples in turn; without ``wait`` the answers may still
    be on their way when it returns."""
    for _ in range(n):
        i = shown(page)
        page.keyboard.press(truth[i])
        if wait:
            page.wait_for_function(
                "i => document.querySelector('#sample').dataset.index !== String(i)", arg=i,
                timeout=20_000)


def acknowledged(page) -> dict:
    """The page's saved answers: pool index -> label (this test neither undoes nor skips)."""
    return dict(page.evaluate("window.skal.acked"))


def test_export_after_kill_9_and_resume_holds_every_saved_answer_once(browser, tmp_path):  # noqa: F811
    pool, keys, truth = table_pool(tmp_path)
    journal = tmp_path / "j.sqlite"
    server = Server(pool, journal, *SMALL, workdir=tmp_path)
    try:
        context, page, errors = open_page(browser, server.url + "&annotator=ana")
        answer(page, truth, 7)
        settled(page)
        answer(page, truth, 3, wait=False)  # answers in flight when the server dies
        server.kill9()
        first = acknowledged(page)
        sent = dict(page.evaluate("window.skal.sent"))
        assert len(first) >= 7 and not errors
        context.close()
        stored = {keys.index(k) for k in journal_labels(journal)}
        assert set(first) <= stored <= set(sent)

        server = Server(pool, journal, *SMALL, workdir=tmp_path)  # the same command again
        context, page, errors = open_page(browser, server.url + "&annotator=ben", csp=True)
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        answer(page, truth, 6)
        settled(page)
        recent = page.eval_on_selector_all(  # the recent answers, by their keys, as text
            "#history button", "bs => bs.map(b => [Number(b.dataset.index), "
            "b.querySelector('.key').textContent, b.querySelector('.key').children.length])")
        assert len(recent) >= 12 and all(k == keys[i] and not n for i, k, n in recent)
        assert any(k.startswith("<img") for _, k, _ in recent)
        assert page.locator("#history img, img[src='x']").count() == 0 and not dialogs
        second = acknowledged(page)
        assert len(second) == 6 and not set(second) & stored  # never asked again
        page.select_option("#export-format", "csv")
        with page.expect_download() as download:
            page.click("#export")
        with open(download.value.path(), newline="") as fh:
            from_page = list(csv.DictReader(fh))
        assert not errors
        context.close()
    finally:
        server.stop()
    from skal.cli import main

    assert main(["export", str(journal), "--output", str(tmp_path / "out.json")]) == 0
    from_cli = json.loads((tmp_path / "out.json").read_text())
    assert [{k: str(v).lower() if isinstance(v, bool) else "" if v is None else str(v)
             for k, v in row.items()} for row in from_cli] == from_page

    who = {**{i: "ana" for i in first}, **{i: "ben" for i in second}}
    saved = {keys[i]: (label, who[i]) for i, label in {**first, **second}.items()}
    rows: dict = {}
    for row in from_page:
        rows.setdefault(row["sample"], []).append(row)
    for key, (label, person) in saved.items():  # each saved answer: once, current, its name
        assert [(r["label"], r["status"], r["current"], r["annotator"]) for r in rows[key]] \
            == [(label, "labeled", "true", person)], key
    in_flight = {keys[i]: lab for i, lab in sent.items() if i not in first}
    for key in set(rows) - set(saved):  # an unacknowledged answer may have been written
        assert [(r["label"], r["annotator"]) for r in rows[key]] == [(in_flight[key], "ana")]
