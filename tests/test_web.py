"""skal label --web: the real page in a real headless browser (Chromium + Playwright), the
token, escaping, and the session's hand-out rules without a browser."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the web extra is not installed: pip install skal[web]")
pytest.importorskip("uvicorn", reason="the web extra is not installed: pip install skal[web]")

CHROMIUM = "/usr/bin/chromium"
DIGIT_CLASSES = "0,1,2,3,4,5,6,7,8,9"
SHOWN = "#sample:not([data-index=''])"


# ----------------------------------------------------------------------------- set-up


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium: installed with apt-get when missing and we may, else a skip."""
    if not Path(CHROMIUM).exists():
        if os.geteuid() != 0 or not shutil.which("apt-get"):
            pytest.skip(f"no browser: {CHROMIUM} is missing and apt-get cannot run as this "
                        "user (apt-get install chromium)")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in (["apt-get", "install", "-y", "chromium"], ["apt-get", "update"],
                        ["apt-get", "install", "-y", "chromium"]):
            try:
                subprocess.run(command, env=env, capture_output=True, timeout=900)
            except subprocess.TimeoutExpired:
                pass
            if Path(CHROMIUM).exists():
                break
        if not Path(CHROMIUM).exists():
            pytest.skip("no browser: apt-get install chromium failed (no network or mirror?)")
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium):
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed: pip install skal[test]")
    with sync_api.sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        except Exception as exc:  # noqa: BLE001
            pytest.skip(f"Chromium does not start under Playwright: {exc}")
        yield b
        b.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``python -m skal label POOL --web`` in a subprocess; ``url`` carries the token."""

    def __init__(self, pool, journal, *extra, port=None, workdir):
        self.port = port or free_port()
        self.log = Path(workdir) / f"server-{time.monotonic_ns()}.log"
        cmd = [sys.executable, "-m", "skal", "label", str(pool), "--web", "--no-browser",
               "--port", str(self.port), "--journal", str(journal), "--model", "logreg",
               "--seed", "0", *extra]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = re.search(r"http://\S+token=\S+", self.log.read_text())
            if found:
                self.url = found.group(0)
                self.token = self.url.rsplit("token=", 1)[1]
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.proc.kill()
        raise AssertionError(f"server did not start:\n{self.log.read_text()}")

    def kill9(self):
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self, wait: float = 15):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(wait)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@pytest.fixture(scope="module")
def digits_pool(tmp_path_factory):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    folder = tmp_path_factory.mktemp("web")
    np.save(folder / "digits.npy", (X / 16.0).astype(np.float32))
    return folder / "digits.npy", y


@pytest.fixture(scope="module")
def shared_server(digits_pool, tmp_path_factory):
    folder = tmp_path_factory.mktemp("shared")
    server = Server(digits_pool[0], folder / "j.sqlite", "--classes", DIGIT_CLASSES,
                    "--batch-size", "5", "--initial-size", "5", workdir=folder)
    yield server
    server.stop()


def open_page(browser, url, *, csp=False):
    context = browser.new_context(bypass_csp=not csp, viewport={"width": 1200, "height": 800})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.wait_for_selector(SHOWN, timeout=20_000)
    return context, page, errors


def shown(page) -> int:
    page.wait_for_selector(SHOWN, timeout=20_000)
    return int(page.get_attribute("#sample", "data-index"))


def press_and_wait(page, key, index):
    page.keyboard.press(key)
    page.wait_for_function(
        "i => document.querySelector('#sample').dataset.index !== String(i)", arg=index,
        timeout=20_000)


def settled(page):
    page.wait_for_function("() => document.body.dataset.pending === '0'", timeout=20_000)


def journal_labels(path) -> dict:
    from skal.io.journal import LabelJournal

    with LabelJournal(path) as journal:
        return journal.labels()


# ----------------------------------------------------------------------------- browser


def test_keyboard_undo_relabel_then_kill_and_resume(browser, digits_pool, tmp_path):
    pool, y = digits_pool
    journal = tmp_path / "labels.sqlite"
    server = Server(pool, journal, "--classes", DIGIT_CLASSES, "--batch-size", "10",
                    workdir=tmp_path)
    try:
        context, page, errors = open_page(browser, server.url)
        expected = {}
        for _ in range(30):  # the keys are the digits themselves
            i = shown(page)
            press_and_wait(page, str(y[i]), i)
            expected[i] = int(y[i])
        settled(page)
        assert page.locator("#buttons button[data-label='7']").count() == 1
        assert "30 labeled" in page.text_content("#progress")

        last = list(expected)[-1]  # undo: the last answer comes back to be answered again
        page.keyboard.press("Backspace")
        page.wait_for_function(
            "i => document.querySelector('#sample').dataset.index === String(i)", arg=last)
        settled(page)
        del expected[last]
        assert last not in journal_labels(journal)

        page.click("#history button[data-index]")  # relabel the newest answer in the list
        target = int(page.get_attribute("#history button[data-index]", "data-index"))
        page.wait_for_function(
            "i => document.querySelector('#sample').dataset.index === String(i)", arg=target)
        assert page.is_visible("#banner")
        new = (expected[target] + 1) % 10
        press_and_wait(page, str(new), target)
        expected[target] = new
        settled(page)
        assert shown(page) == last  # the undone sample is next again
        acked = page.evaluate("window.skal.acked.length")
        assert not errors
        context.close()

        server.kill9()
        assert journal_labels(journal) == expected  # every acknowledged answer, no other
        assert acked == 32  # 30 answers, an undo, a relabel

        server = Server(pool, journal, "--classes", DIGIT_CLASSES, "--batch-size", "10",
                        port=server.port, workdir=tmp_path)
        context, page, errors = open_page(browser, server.url)
        assert "29 labeled" in page.text_content("#progress")
        assert shown(page) not in expected
        i = shown(page)
        press_and_wait(page, str(y[i]), i)
        settled(page)
        assert journal_labels(journal)[i] == y[i] and len(journal_labels(journal)) == 30
        assert not errors
        context.close()
    finally:
        server.stop()


def test_late_replies_never_set_the_progress_back(browser, digits_pool, tmp_path):
    # answers sent late and /api/next replies held back: the state a /api/next reply
    # carries is older than the answer's reply that arrives before it
    pool, y = digits_pool
    server = Server(pool, tmp_path / "labels.sqlite", "--classes", DIGIT_CLASSES,
                    workdir=tmp_path)
    try:
        context, page, errors = open_page(browser, server.url)
        page.evaluate("""() => {
            const fetch0 = window.fetch;
            const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
            window.fetch = async (path, init) => {
                if (String(path).includes("/api/answer")) await sleep(200);
                const reply = await fetch0(path, init);
                if (String(path).includes("/api/next")) await sleep(600);
                return reply;
            };
            const progress = document.querySelector("#progress");
            window.shownProgress = [];
            new MutationObserver(() => window.shownProgress.push(progress.textContent))
                .observe(progress, { childList: true, characterData: true, subtree: true });
        }""")
        for _ in range(8):
            i = shown(page)
            press_and_wait(page, str(y[i]), i)
        settled(page)
        page.wait_for_timeout(2000)  # every held reply has arrived
        counts = [int(text.split(" labeled")[0]) for text in
                  page.evaluate("window.shownProgress")]
        assert counts == sorted(counts) and counts[-1] == 8, counts
        assert not errors
        context.close()
    finally:
        server.stop()


def test_kill_while_answering_loses_no_acknowledged_answer(browser, digits_pool, tmp_path):
    pool, y = digits_pool
    journal = tmp_path / "labels.sqlite"
    server = Server(pool, journal, "--classes", DIGIT_CLASSES, workdir=tmp_path)
    try:
        context, page, _ = open_page(browser, server.url)
        for _ in range(12):
            i = shown(page)
            page.keyboard.press(str(y[i]))
        server.kill9()  # answers may be in flight
        acked = {i: lab for i, lab in page.evaluate("window.skal.acked")}
        sent = {i: lab for i, lab in page.evaluate("window.skal.sent")}
        context.close()
    finally:
        server.stop()
    stored = journal_labels(journal)
    assert acked.items() <= stored.items() <= sent.items()


def test_two_pages_never_get_the_same_sample(browser, shared_server, digits_pool):
    y = digits_pool[1]
    pages = [open_page(browser, shared_server.url) for _ in range(2)]
    seen = [set(), set()]
    for _ in range(8):
        for k, (_, page, _) in enumerate(pages):
            i = shown(page)
            seen[k].add(i)
            seen[k].update(s["index"] for s in page.evaluate("window.skal.app.buffer"))
            press_and_wait(page, str(y[i]), i)
    for k, (_, page, errors) in enumerate(pages):
        settled(page)
        seen[k].add(shown(page))
        assert not errors
    assert len(seen[0]) >= 8 and len(seen[1]) >= 8
    assert not seen[0] & seen[1]
    for context, _, _ in pages:
        context.close()


def test_default_cnn_retrains_in_the_background_and_guesses(browser, digits_pool, tmp_path):
    pool, y = digits_pool
    server = Server(pool, tmp_path / "j.sqlite", "--classes", DIGIT_CLASSES, "--model", "cnn",
                    "--epochs", "2", "--batch-size", "6", "--initial-size", "6",
                    "--save", str(tmp_path / "web.skal"), workdir=tmp_path)
    try:
        context, page, errors = open_page(browser, server.url)
        deadline = time.monotonic() + 90
        while "guess" not in page.text_content("#guess"):  # labeling goes on meanwhile
            assert time.monotonic() < deadline, server.log.read_text()
            i = shown(page)
            press_and_wait(page, str(y[i]), i)
            time.sleep(0.5)
        assert "pick of" in page.text_content("#why") and not errors
        context.close()
    finally:
        server.stop(wait=120)  # Ctrl-C waits for the refit, fits every answer, saves
    assert server.proc.returncode == 0, server.log.read_text()
    assert "Traceback" not in server.log.read_text()
    import skal  # --save: after Ctrl-C, a learner fitted on every answer of the journal

    saved = skal.load(tmp_path / "web.skal")
    assert set(saved.labeled_indices_.tolist()) == set(journal_labels(tmp_path / "j.sqlite"))
    assert saved.history_[-1]["n_labeled"] == saved.n_labeled_


def test_file_names_are_shown_as_text(browser, tmp_path):
    from PIL import Image

    folder = tmp_path / "pool"
    folder.mkdir()
    evil = ["<script>alert(1)<", "<img src=x onerror=alert(2)>", "a&amp;b\"'"]
    rng = np.random.default_rng(0)
    for k, name in enumerate(evil):
        pixels = rng.integers(0, 255, (6, 5, 3), dtype=np.uint8)
        pixels[0, 0] = (255, 0, 0)  # a red corner: colour is kept
        Image.fromarray(pixels).save(folder / f"{name}{k}.png")
    server = Server(folder, tmp_path / "j.sqlite", "--classes", "cat,dog", workdir=tmp_path)
    try:
        context, page, errors = open_page(browser, server.url, csp=True)
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        names = set()
        for _ in range(3):
            i = shown(page)
            names.add(page.text_content("#name"))
            assert page.locator("#sample img").count() == 1
            assert page.locator("#sample script, img[src='x'], #name *").count() == 0
            page.keyboard.press("1")
            page.wait_for_function(
                "i => document.querySelector('#sample').dataset.index !== String(i)", arg=i)
        assert names == {f"{name}{k}.png" for k, name in enumerate(evil)}
        assert not dialogs and not errors
        context.close()
    finally:
        server.stop()


# ----------------------------------------------------------------------------- HTTP


def _request(url, method="GET", headers=None, body=None):
    req = urllib.request.Request(url, method=method, headers=headers or {}, data=body)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers)


def test_requests_without_the_token_are_refused(shared_server):
    base = f"http://127.0.0.1:{shared_server.port}"
    good = {"X-Skal-Token": shared_server.token, "Content-Type": "application/json"}
    # Change the last character to one it is not (a fixed "x" equals it 1 time in 64).
    wrong = shared_server.token[:-1] + ("y" if shared_server.token.endswith("x") else "x")
    bad = {"X-Skal-Token": wrong, "Content-Type": "application/json"}
    status, headers = _request(f"{base}/?token={shared_server.token}")
    assert status == 200 and "default-src 'none'" in headers["content-security-policy"]
    assert _request(f"{base}/")[0] == 403
    assert _request(f"{base}/?token=wrong")[0] == 403
    assert _request(f"{base}/favicon.ico")[0] == 403
    assert _request(f"{base}/api/hello", "POST", body=b"{}")[0] == 403
    assert _request(f"{base}/api/hello", "POST", bad, b"{}")[0] == 403
    assert _request(f"{base}/api/hello?token={shared_server.token}", "POST", body=b"{}")[0] == 403
    assert _request(f"{base}/api/hello", "POST", good, b"{}")[0] == 200
    for path in ("/api/answer", "/api/next", "/api/undo", "/api/hello"):
        assert _request(f"{base}{path}", "GET", good)[0] == 405  # state changes are POSTs
    assert _request(f"{base}/api/answer", "POST", good, b"[1]")[0] == 400
    assert _request(f"{base}/../etc/passwd", "GET", good)[0] in (403, 404)


# ----------------------------------------------------------------------------- no browser


@pytest.fixture
def session():
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    from skal import ActiveLearningClassifier, Campaign
    from skal.cli._web._render import choose_display
    from skal.cli._web._session import LabelSession

    X, y = load_digits(return_X_y=True)
    learner = ActiveLearningClassifier(LogisticRegression(max_iter=300), n_instances=4,
                                       initial_size=4, random_state=0)
    s = LabelSession(Campaign(learner, X / 16), choose_display(64), list(range(10)))
    yield s, y
    s.close()


def test_session_hands_out_disjoint_samples_and_checks_answers(session):
    from skal.cli._web._session import SessionError

    s, y = session
    a, b = s.hello()["client"], s.hello()["client"]
    got_a = [x["index"] for x in s.next_samples(a, 6)]
    got_b = [x["index"] for x in s.next_samples(b, 6)]
    assert len(set(got_a)) == 6 and not set(got_a) & set(got_b)
    with pytest.raises(SessionError, match="not handed"):
        s.answer(a, got_b[0], 1)
    with pytest.raises(SessionError, match="not one of the classes"):
        s.answer(a, got_a[0], "cat")
    with pytest.raises(SessionError, match="outside"):
        s.answer(a, 10**6, 1)
    with pytest.raises(SessionError, match="unknown page"):
        s.answer("nobody", got_a[0], 1)
    for i in got_a:
        s.answer(a, i, int(y[i]))
    s.answer(b, got_a[0], (int(y[got_a[0]]) + 1) % 10)  # any page may relabel
    assert s.undo(a, got_a[1])["sample"]["index"] == got_a[1]  # back to page a
    with pytest.raises(SessionError, match="not handed"):
        s.answer(b, got_a[1], 1)
    s.release(b)
    state = s.state()
    assert state["n_labeled"] == 5 and {r[0] for r in state["recent"]} == set(got_a) - {got_a[1]}
    assert state["recent"][0][2].startswith("data:image/png;base64,")


def test_state_version_grows_with_every_answer_undo_and_fit(session):
    s, y = session
    a = s.hello()["client"]
    versions = [s.state()["version"]]
    picked = [x["index"] for x in s.next_samples(a, 4)]
    for i in picked:
        versions.append(s.answer(a, i, int(y[i]))["version"])
    s.campaign.wait()  # four labels: the first fit
    versions.append(s.state()["version"])
    versions.append(s.undo(a, picked[0])["state"]["version"])
    assert all(b > a for a, b in zip(versions, versions[1:])), versions
    assert len(s.state()["instance"]) == 16  # a restarted server counts again from 0


def test_refit_in_the_background_gives_guesses_and_reasons(session):
    s, y = session
    a = s.hello()["client"]
    for _ in range(3):
        for x in s.next_samples(a, 4):
            s.answer(a, x["index"], int(y[x["index"]]))
    s.campaign.wait()
    assert s.state()["model_labels"] >= 4
    sample = s.next_samples(a, 1)[0]
    assert sample["guess"][0][0] in range(10) and 0 < sample["guess"][0][1] <= 1
    assert sample["why"]["reason"] == "entropy" and "pick of" in sample["why"]["text"]


def test_display_kinds_keep_colour_and_sharp_pixels():
    import base64
    import io

    from PIL import Image

    from skal.cli._web._render import choose_display

    row = np.zeros((4, 5, 3))
    row[0, 0] = (1.0, 0.0, 0.0)
    out = choose_display(60, (4, 5, 3)).payload(row.reshape(-1), size=100)
    image = Image.open(io.BytesIO(base64.b64decode(out["image"].split(",", 1)[1])))
    assert image.mode == "RGB" and image.size == (100, 80)  # 20x: whole pixels
    pixels = np.asarray(image)
    assert (pixels[:20, :20] == (255, 0, 0)).all() and (pixels[20:, :] == 0).all()
    signal = choose_display(40).payload(np.arange(40.0))
    assert signal["kind"] == "signal" and len(signal["signal"]) == 40
    table = choose_display(3).payload(np.array([1.0, 2.5, -3.0]))
    assert table["table"][1] == ["feature 1", "2.5"]


def test_skal_and_terminal_label_do_not_import_the_web_stack():
    code = ("import sys, skal, skal.cli; skal.cli.build_parser();"
            "print([m for m in ('starlette', 'uvicorn', 'skal.cli._web') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
