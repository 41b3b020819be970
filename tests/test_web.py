"""skal label --web: the real page in a real headless browser (Chromium + Playwright), the
token, escaping, and the session's hand-out rules without a browser; hostile requests
(nearly-right tokens, bodies too large or too deep, answers the campaign refuses) and a
retraining that fails, each a table row or a test with its expected clear answer."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

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
        # one install at a time: the test workers (pytest -n 2) would race for dpkg's lock
        with open(Path(tempfile.gettempdir()) / "skal-tests-chromium.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            for command in (["apt-get", "install", "-y", "chromium"], ["apt-get", "update"],
                            ["apt-get", "install", "-y", "chromium"]):
                if Path(CHROMIUM).exists():  # installed meanwhile by the other worker
                    break
                try:
                    subprocess.run(command, env=env, capture_output=True, timeout=900)
                except subprocess.TimeoutExpired:
                    pass
        if not Path(CHROMIUM).exists():
            pytest.skip("no browser: apt-get install chromium failed (no network or mirror?)")
    return CHROMIUM


@pytest.fixture(scope="module")  # modules import it: one Playwright at a time, never two
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
                                       query_strategy="entropy", initial_size=4, random_state=0)
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


# ----------------------------------------------------------------------------- hostile input


def test_tokens_that_are_nearly_right_are_refused(shared_server):
    # hmac.compare_digest on the whole token: a check that accepted a prefix (a one-character
    # guess), or a token with more after it, would let these in
    base = f"http://127.0.0.1:{shared_server.port}"
    token = shared_server.token
    near = {"truncated": token[:-1], "extended": token + "x", "one character": token[0],
            "first half": token[: len(token) // 2], "doubled": token * 2,
            "other case": token.swapcase()}
    for name, given in near.items():
        if given == token:  # swapcase of a token without letters
            continue
        query = urllib.parse.quote(given)
        assert _request(f"{base}/?token={query}")[0] == 403, name
        headers = {"X-Skal-Token": given, "Content-Type": "application/json"}
        assert _request(f"{base}/api/state", "POST", headers, b"{}")[0] == 403, name
    good = {"X-Skal-Token": token, "Content-Type": "application/json"}
    assert _request(f"{base}/api/state", "POST", good, b"{}")[0] == 200


def _raw_post(port, path, headers, chunks, *, chunked=False, timeout=10.0):
    """POST ``chunks`` one by one until the server answers (it may do so before the body
    is sent); the status, the reply's JSON error (or its text) and the body bytes sent."""
    import json
    import select

    head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    if chunked:
        head.append("Transfer-Encoding: chunked")
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sent = 0
    try:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        finished = True
        for chunk in chunks:
            if select.select([sock], [], [], 0.02)[0]:  # answered before the end: stop
                finished = False
                break
            data = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" if chunked else chunk
            try:
                sock.sendall(data)
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                finished = False
                break
            sent += len(chunk)
        if finished and chunked:
            sock.sendall(b"0\r\n\r\n")
        reply = b""
        while b"\r\n\r\n" not in reply or len(reply.split(b"\r\n\r\n", 1)[1]) < _length(reply):
            part = sock.recv(65536)
            if not part:
                break
            reply += part
    finally:
        sock.close()
    status = int(reply.split(b" ", 2)[1])
    body = reply.split(b"\r\n\r\n", 1)[1]
    try:
        message = json.loads(body).get("error", "")
    except ValueError:
        message = body.decode("latin-1")
    return status, message, sent


def _length(reply: bytes) -> int:
    found = re.search(rb"(?i)\r\ncontent-length: *(\d+)", reply.split(b"\r\n\r\n", 1)[0])
    return int(found.group(1)) if found else 10**9


def _pieces(total, size=16 * 1024, fill=b"["):
    for start in range(0, total, size):
        yield fill * min(size, total - start)


MB = 1024 * 1024
# (what, path, extra headers, body chunks, chunked, status, message fragment, most bytes sent)
HOSTILE_REQUESTS = [
    ("Content-Length of 300 MB: refused before its body", "/api/answer",
     {"Content-Length": str(300 * MB)}, lambda: _pieces(8 * MB), False,
     413, "request too large", 256 * 1024),
    ("a chunked body without end: refused while it streams", "/api/answer", {},
     lambda: _pieces(8 * MB), True, 413, "request too large", 512 * 1024),
    ("an honest Content-Length one byte over 64 KiB", "/api/state",
     {"Content-Length": str(64 * 1024 + 1)}, lambda: [b" " * (64 * 1024 + 1)], False,
     413, "at most 65536 bytes", None),
    ("60 KB of nested '[' (a RecursionError and a 500 before)", "/api/answer",
     {"Content-Length": str(60_000)}, lambda: [b"[" * 60_000], False,
     400, "nested deeper than 8 levels", None),
    ("nested objects 9 deep, short", "/api/state", {"Content-Length": "55"},
     lambda: [b'{"a":' * 9 + b"1" + b"}" * 9], False, 400, "nested deeper than 8", None),
    ("a chunked 9-deep body in 1-byte chunks", "/api/state", {},
     lambda: [bytes([b]) for b in b"[" * 9 + b"]" * 9], True, 400, "nested deeper than 8",
     None),
    # correct answers: brackets in strings are not nesting; a body in tiny chunks is whole
    ("brackets inside a string are not nesting", "/api/state",
     {"Content-Length": str(len(b'{"client": "' + b"[{" * 40 + b'"}'))},
     lambda: [b'{"client": "' + b"[{" * 40 + b'"}'], False, 200, "", None),
    ("a flat body in 1-byte chunks", "/api/state", {},
     lambda: [bytes([b]) for b in b'{"client": "x"}'], True, 200, "", None),
]


@pytest.mark.parametrize(
    "path, extra, chunks, chunked, status, fragment, most",
    [pytest.param(*row[1:], id=row[0]) for row in HOSTILE_REQUESTS])
def test_hostile_requests(shared_server, path, extra, chunks, chunked, status, fragment, most):
    headers = {"X-Skal-Token": shared_server.token, "Content-Type": "application/json", **extra}
    got, message, sent = _raw_post(shared_server.port, path, headers, chunks(),
                                   chunked=chunked)
    assert (got, fragment in message) == (status, True), (got, message)
    if most is not None:  # refused while the body streamed in, not after reading it all
        assert sent <= most, sent
    good = {"X-Skal-Token": shared_server.token, "Content-Type": "application/json"}
    assert _request(f"http://127.0.0.1:{shared_server.port}/api/state", "POST", good,
                    b"{}")[0] == 200  # and the server goes on


# ----------------------------------------------------------------------------- refused answers


#: FailsAbove's fit fails on more than FAIL["above"] labels: a retraining that breaks.
FAIL = {"above": 10**9}


class FailsAbove(LogisticRegression):
    """LogisticRegression whose ``fit`` raises past ``FAIL["above"]`` labels."""

    def fit(self, X, y, sample_weight=None):
        if len(y) > FAIL["above"]:
            raise ValueError(f"boom: no model from {len(y)} labels")
        return super().fit(X, y, sample_weight)


def free_session(tmp_path, model=None):
    """A session without --classes over the digits, batches of 3, a journal in tmp_path."""
    from sklearn.datasets import load_digits

    from skal import ActiveLearningClassifier, Campaign
    from skal.cli._web._render import choose_display
    from skal.cli._web._session import LabelSession
    from skal.io.journal import LabelJournal

    X, y = load_digits(return_X_y=True)
    learner = ActiveLearningClassifier(model or LogisticRegression(max_iter=200),
                                       n_instances=3, initial_size=3, random_state=0)
    journal = LabelJournal(tmp_path / "free.sqlite")
    return LabelSession(Campaign(learner, X / 16, journal=journal), choose_display(64)), y


def _settle(session):
    """Wait for the background refit, and for the session to have recorded a failure (a
    future's done-callbacks run just after its waiters wake)."""
    import concurrent.futures

    future = session._future
    if future is None:
        return
    concurrent.futures.wait([future], timeout=30)
    deadline = time.monotonic() + 10
    while future.exception() is not None and session._refit_error is None:
        assert time.monotonic() < deadline, "the failed refit was not recorded"
        time.sleep(0.01)


# (label sent by a page without --classes, after integer answers, error fragment or None)
WEB_ANSWERS = [
    ("zz", "answer refused"),  # a str on an integer campaign: the campaign's gate
    ("7.5", "answer refused"),  # not parsed as a number: a str again
    ("-1", "-1 marks an unlabeled sample"),  # was recorded as a silent skip
    (-1, "-1 marks an unlabeled sample"),
    ("7", None),  # typed digits are the integer class
]


@pytest.mark.parametrize("label, fragment", WEB_ANSWERS, ids=[repr(r[0]) for r in WEB_ANSWERS])
def test_a_refused_answer_is_a_400_and_nothing_is_written(tmp_path, label, fragment):
    from skal.cli._web._session import SessionError

    s, y = free_session(tmp_path)
    try:
        a = s.hello()["client"]
        picked = [x["index"] for x in s.next_samples(a, 4)]
        for i in picked[:3]:
            s.answer(a, i, int(y[i]))
        before = (s.campaign.journal_.labels(), s.state()["classes"], s.state()["n_skipped"])
        if fragment is None:
            assert s.answer(a, picked[3], label)["n_labeled"] == 4
            assert s.campaign.journal_.labels()[picked[3]] == int(label)
            return
        with pytest.raises(SessionError, match=re.escape(fragment)) as refused:
            s.answer(a, picked[3], label)
        assert refused.value.status == 400
        assert (s.campaign.journal_.labels(), s.state()["classes"],
                s.state()["n_skipped"]) == before  # nothing written, no new button
        assert s.answer(a, picked[3], int(y[picked[3]]))["n_labeled"] == 4  # and it goes on
    finally:
        _settle(s)
        s.close()


def test_a_failed_refit_is_in_the_state_until_one_works(tmp_path, monkeypatch):
    monkeypatch.setitem(FAIL, "above", 4)
    s, y = free_session(tmp_path, FailsAbove(max_iter=200))
    try:
        a = s.hello()["client"]

        def answer(n):
            for x in s.next_samples(a, n):
                s.answer(a, x["index"], int(y[x["index"]]))
            _settle(s)
            return s.state()

        state = answer(3)
        assert state["model_labels"] == 3 and state["refit_error"] is None
        state = answer(3)  # the refit on 6 labels fails: said, and labeling goes on
        assert state["refit_error"] == {
            "message": "ValueError: boom: no model from 6 labels", "n_labeled": 6}
        assert state["model_labels"] == 3 and s.next_samples(a, 1)[0]["guess"] is not None
        state = answer(2)
        assert state["n_labeled"] == 8 and state["refit_error"]["n_labeled"] == 6
        monkeypatch.setitem(FAIL, "above", 10**9)
        state = answer(1)  # the next refit works: the error is gone
        assert state["refit_error"] is None and state["model_labels"] == 9
    finally:
        _settle(s)
        s.close()


class LocalServer:
    """The web app over a session of this process, served by uvicorn in a thread."""

    def __init__(self, session):
        import threading

        import uvicorn

        from skal.cli._web import _bind
        from skal.cli._web._app import create_app

        self.token = "local-" + os.urandom(8).hex()
        self.sock = _bind("127.0.0.1", 0)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/?token={self.token}"
        config = uvicorn.Config(create_app(session, self.token), log_level="warning",
                                access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "no server"
            time.sleep(0.02)

    def stop(self):
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


def test_the_page_says_why_retraining_failed_and_keeps_taking_answers(browser, tmp_path,
                                                                      monkeypatch):
    monkeypatch.setitem(FAIL, "above", 4)
    s, y = free_session(tmp_path, FailsAbove(max_iter=200))
    a = s.hello()["client"]
    for _ in range(2):  # a model from 3 labels, then a refit on 6 that fails
        for x in s.next_samples(a, 3):
            s.answer(a, x["index"], int(y[x["index"]]))
        _settle(s)
    s.release(a)
    server = LocalServer(s)
    try:
        context, page, errors = open_page(browser, server.url)
        page.wait_for_selector("#model-error:not([hidden])", timeout=10_000)
        text = page.text_content("#model-error")
        assert "failed at 6 labels: ValueError: boom: no model from 6 labels" in text, text
        assert "Trained on 3 labels" in page.text_content("#model")

        def type_label(label):
            i = shown(page)
            page.fill("#new-label", str(label))
            page.press("#new-label", "Enter")
            page.wait_for_function(
                "i => document.querySelector('#sample').dataset.index !== String(i)", arg=i,
                timeout=10_000)
            settled(page)
            return i

        refused = type_label("zz")  # the campaign's gate: said, and the sample comes back
        assert "answer refused" in page.text_content("#status")
        following = type_label(int(y[shown(page)]))
        assert shown(page) == refused
        type_label(int(y[refused]))
        assert "8 labeled" in page.text_content("#progress")
        assert page.is_visible("#model-error")  # no refit since: still the old model
        assert "zz" not in page.text_content("#buttons") and not errors
        context.close()
    finally:
        server.stop()
        _settle(s)
        s.close()
    labels = journal_labels(tmp_path / "free.sqlite")
    assert len(labels) == 8 and "zz" not in labels.values()
    assert labels[refused] == y[refused] and labels[following] == y[following]


def _post(server, path, body):
    import json

    headers = {"X-Skal-Token": server.token, "Content-Type": "application/json"}
    req = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}", method="POST",
                                 headers=headers, data=json.dumps(body).encode())
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_refused_answers_then_kill_lose_nothing(digits_pool, tmp_path):
    # without --classes: the labels' kind is the campaign's to check
    pool, y = digits_pool
    journal = tmp_path / "labels.sqlite"
    server = Server(pool, journal, "--batch-size", "4", "--initial-size", "4",
                    workdir=tmp_path)
    try:
        client = _post(server, "/api/hello", {})[1]["client"]
        picked = [x["index"] for x in _post(server, "/api/next",
                                            {"client": client, "n": 6})[1]["samples"]]
        acked = {}
        for i in picked[:5]:
            assert _post(server, "/api/answer",
                         {"client": client, "index": i, "label": int(y[i])})[0] == 200
            acked[i] = int(y[i])
        for poison in ("zz", "-1", [1]):
            status, reply = _post(server, "/api/answer",
                                  {"client": client, "index": picked[5], "label": poison})
            assert status == 400 and reply["error"], (poison, status, reply)
        assert "Traceback" not in server.log.read_text()
        server.kill9()
    finally:
        server.stop()
    assert journal_labels(journal) == acked
    from skal import ActiveLearningClassifier, Campaign
    from skal.io.journal import LabelJournal

    with LabelJournal(journal) as j:  # it resumes, and takes the refused sample's label
        campaign = Campaign(ActiveLearningClassifier(LogisticRegression()), np.load(pool),
                            journal=j)
        assert sorted(campaign.labeled_indices_.tolist()) == sorted(acked)
        campaign.answer(picked[5], int(y[picked[5]]))
    assert journal_labels(journal) == {**acked, picked[5]: int(y[picked[5]])}


def test_the_stopping_progress_is_in_the_state(tmp_path):
    from sklearn.datasets import load_digits

    from skal import ActiveLearningClassifier, Campaign
    from skal.cli._web._render import choose_display
    from skal.cli._web._session import LabelSession
    from skal.stopping import StabilizingPredictions

    X, y = load_digits(return_X_y=True)
    learner = ActiveLearningClassifier(
        LogisticRegression(max_iter=200), n_instances=3, initial_size=3, random_state=0,
        stopping=StabilizingPredictions(threshold=0.01, window=1))  # stable at the 2nd fit
    s = LabelSession(Campaign(learner, X / 16), choose_display(64))
    try:
        a = s.hello()["client"]
        assert s.state()["stopping"] == [] and s.state()["can_stop"] is None
        for _ in range(2):
            for x in s.next_samples(a, 3):
                s.answer(a, x["index"], int(y[x["index"]]))
            _settle(s)
        state = s.state()
        assert state["stopping"][0].startswith("predictions stable for 1 of 1 rounds")
        assert state["can_stop"] == "stabilizing predictions"
    finally:
        _settle(s)
        s.close()
