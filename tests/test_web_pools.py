"""skal label --web on the pools a codebase holds: a CSV table and texts (a folder of .txt
files, a table's text column) labeled in a real browser; their records and texts shown as
text (hostile cells, file names and column names never become HTML), long texts scrollable,
the journal keyed by the id column or file name, and the page's payload of a huge text cut."""

from __future__ import annotations

import numpy as np
import pandas as pd
from test_web import SHOWN, Server, browser, chromium, journal_labels, open_page  # noqa: F401

EVIL = ["<script>alert(1)</script>", "<img src=x onerror=alert(2)>", "a&amp;b\"'"]
HOSTILE = "#sample script, #sample img, img[src='x'], #name *"


def label_shown(page, truth, n):
    """Answer ``n`` samples with the key of their true class; the pool indices answered."""
    answered = []
    for _ in range(n):
        page.wait_for_selector(SHOWN, timeout=20_000)
        i = int(page.get_attribute("#sample", "data-index"))
        page.keyboard.press(truth(i))
        page.wait_for_function(
            "i => document.querySelector('#sample').dataset.index !== String(i)", arg=i,
            timeout=20_000)
        answered.append(i)
    page.wait_for_function("() => document.body.dataset.pending === '0'", timeout=20_000)
    return answered


def watch_dialogs(page) -> list:
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    return dialogs


def test_a_csv_pool_is_labeled_in_the_page_as_records(browser, tmp_path):  # noqa: F811
    rng = np.random.default_rng(0)
    n = 40
    spend = rng.normal(50, 20, n).round(1)
    table = pd.DataFrame({"customer": [f"c-{k:03}" for k in range(n)],
                          "plan": rng.choice(["free", "pro", EVIL[1]], n), "spend": spend,
                          EVIL[0]: [EVIL[k % 3] for k in range(n)]})
    table.to_csv(tmp_path / "customers.csv", index=False)
    journal = tmp_path / "j.sqlite"
    server = Server(tmp_path / "customers.csv", journal, "--id-column", "customer",
                    "--classes", "high,low", "--batch-size", "4", "--initial-size", "4",
                    workdir=tmp_path)
    try:
        context, page, errors = open_page(browser, server.url, csp=True)
        dialogs = watch_dialogs(page)
        i = int(page.get_attribute("#sample", "data-index"))
        cells = page.eval_on_selector_all(
            "#sample tr", "rows => rows.map(r => [r.querySelector('th').textContent, "
            "r.querySelector('td').textContent])")
        assert cells == [["customer", f"c-{i:03}"], ["plan", table["plan"][i]],
                         ["spend", f"{spend[i]:.6g}"], [EVIL[0], EVIL[i % 3]]]
        assert page.text_content("#name") == f"c-{i:03}"
        answered = label_shown(page, lambda k: "1" if spend[k] > 50 else "2", 12)
        assert page.locator(HOSTILE).count() == 0 and not dialogs and not errors
        page.wait_for_function(  # the table pipeline trained in the background, and guesses
            "() => /Trained on/.test(document.querySelector('#model').textContent)",
            timeout=30_000)
        context.close()
    finally:
        server.stop()
    labels = journal_labels(journal)
    assert labels == {f"c-{k:03}": ("high" if spend[k] > 50 else "low") for k in answered}
    assert "Traceback" not in server.log.read_text()


def text_folder(folder, n=16):
    """Texts of two classes; the first is long (it scrolls), two have hostile content."""
    folder.mkdir()
    words = {0: "refund broken late damaged", 1: "thanks great love perfect"}
    for k in range(n):
        body = f"{words[k % 2]} " * 3
        if k == 0:
            body = "\n".join(f"line {j}: {words[0]}" for j in range(400))
        if k in (2, 3):
            body += EVIL[k - 2]
        (folder / f"{EVIL[1] if k == 5 else ''}t{k:02}.txt").write_text(body, encoding="utf-8")
    return sorted(p.name for p in folder.iterdir())


def test_a_text_folder_is_labeled_in_the_page_scrollable_and_escaped(browser, tmp_path):  # noqa: F811,E501
    names = text_folder(tmp_path / "texts")
    texts = {name: (tmp_path / "texts" / name).read_text() for name in names}
    journal = tmp_path / "j.sqlite"
    server = Server(tmp_path / "texts", journal, "--classes", "complaint,praise",
                    "--batch-size", "4", "--initial-size", "4", workdir=tmp_path)
    try:
        context, page, errors = open_page(browser, server.url, csp=True)
        dialogs = watch_dialogs(page)
        seen = {}
        for _ in range(len(names)):
            page.wait_for_selector(SHOWN, timeout=20_000)
            i = int(page.get_attribute("#sample", "data-index"))
            name = page.text_content("#name")
            assert page.text_content("#sample .text") == texts[name]
            box = page.eval_on_selector("#sample .text", "n => [n.scrollHeight, n.clientHeight,"
                                        " getComputedStyle(n).overflowY]")
            if name == "t00.txt":  # 400 lines: the text scrolls inside the sample panel
                assert box[0] > box[1] + 1000 and box[2] == "auto"
            seen[name] = "complaint" if "refund" in texts[name] else "praise"
            page.keyboard.press("1" if seen[name] == "complaint" else "2")
            page.wait_for_function(
                "i => document.querySelector('#sample').dataset.index !== String(i)", arg=i,
                timeout=20_000)
        page.wait_for_function("() => document.body.dataset.pending === '0'")
        assert page.locator(HOSTILE).count() == 0 and not dialogs and not errors
        context.close()
    finally:
        server.stop()
    assert set(seen) == set(names)  # every text shown once, under its file name
    assert journal_labels(journal) == seen  # keyed by file name


def test_a_text_column_is_shown_with_the_chosen_columns(browser, tmp_path):  # noqa: F811
    rows = pd.DataFrame({"id": [f"r{k}" for k in range(12)],
                         EVIL[1]: [EVIL[k % 3] for k in range(12)],
                         "body": [("good fine " if k % 2 else "bad poor ") * 4 + EVIL[k % 3]
                                  for k in range(12)]})
    rows.to_csv(tmp_path / "reviews.csv", index=False)
    server = Server(tmp_path / "reviews.csv", tmp_path / "j.sqlite", "--text-column", "body",
                    "--id-column", "id", "--columns", f"id,{EVIL[1]}", "--classes", "pos,neg",
                    "--batch-size", "4", "--initial-size", "4", workdir=tmp_path)
    try:
        context, page, errors = open_page(browser, server.url, csp=True)
        dialogs = watch_dialogs(page)
        i = int(page.get_attribute("#sample", "data-index"))
        assert page.text_content("#sample .text") == rows["body"][i]
        assert page.eval_on_selector_all("#sample th", "h => h.map(n => n.textContent)") == [
            "id", EVIL[1]]
        assert page.eval_on_selector_all("#sample td", "d => d.map(n => n.textContent)") == [
            f"r{i}", EVIL[i % 3]]
        label_shown(page, lambda k: "1" if k % 2 else "2", 6)
        assert page.locator(HOSTILE).count() == 0 and not dialogs and not errors
        context.close()
    finally:
        server.stop()


def test_the_page_gets_a_huge_text_cut_and_says_how_much_is_left():
    from skal.cli._pools import TEXT_LIMIT, VALUE_LIMIT, Pool
    from skal.cli._web._render import pool_display

    huge = "word " * 100_000
    X = pd.DataFrame({"text": [huge, "short"]})
    shown = pd.DataFrame({"note": ["x" * (VALUE_LIMIT + 7), "y"]})
    display = pool_display(Pool(X, "text", "-", shown=shown, text_column="text"))
    payload = display.sample(X, 0, 0)
    assert payload["kind"] == "text" and len(payload["text"]) == TEXT_LIMIT
    assert payload["more"] == len(huge) - TEXT_LIMIT
    assert payload["record"][0][1].endswith("… (7 more characters)")
    assert display.sample(X, 1, 1) == {"kind": "text", "record": [["note", "y"]],
                                       "text": "short"}
