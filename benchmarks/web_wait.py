"""How long a person waits on the labeling page of ``skal label --web``.

The wait is the time between pressing a class key and the next sample on screen, measured
two ways over ``--answers`` answers (default 200) given by a real headless browser
(Debian's Chromium driven by Playwright):

* **page**: in the page, from the key event's time stamp to the frame after the new
  sample is in the DOM (``requestAnimationFrame`` + ``setTimeout 0``, about paint time);
* **driver**: from Playwright's ``keyboard.press`` to its seeing the new ``data-index`` (this
  adds the browser protocol's round trips and polling).

Two setups (``--setup``, default both):

* ``cnn-digits``: the default CNN (``skal label digits.npy --web``, entropy, batches of 10)
  on digits (``load_digits().data / 16``; the last 297 as ``--holdout``), so the CNN retrains
  in the background after every 10 answers while the browser keeps answering;
* ``tfidf-text``: a CSV of 3,000 generated reviews of four topics (20 to 400 words, one in
  fifty 3,000 words long, shown scrollable) labeled through ``--text-column``: the default
  text model, TF-IDF (words and word pairs) + logistic regression, retrained in the
  background after every 10 answers.

A person needs well over a second per sample; the driver "thinks" ``--think-ms`` (default
300 ms) before each key, a fast labeler. With ``--think-ms 0`` the page's buffer of
prefetched samples can run dry while a query runs. The driver presses the key the page
shows for each class (the buttons' ``data-key``).
Prints a table and writes ``benchmarks/results/web_wait.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
HOLDOUT = 297  # the last digits: validation accuracy per refit (the page's curve)


TOPICS = {
    "sport": "match goal team coach season league score player win stadium",
    "tech": "software chip battery screen update laptop app cloud code device",
    "food": "recipe flavour dinner chef sauce bake kitchen spicy fresh taste",
    "travel": "flight hotel beach museum train passport journey island guide trip",
}
COMMON = ("the a and of to in it is was for on with this that very really but not so just "
          "good bad new old great little big time day people").split()


def digits_setup(folder: Path):
    """digits.npy (--holdout on the last 297); labels are the digits."""
    X, y = _digits()
    np.save(folder / "digits.npy", X[:-HOLDOUT])
    np.savez(folder / "holdout.npz", X=X[-HOLDOUT:], y=y[-HOLDOUT:])
    extra = ["--classes", "0,1,2,3,4,5,6,7,8,9", "--holdout", str(folder / "holdout.npz")]
    return folder / "digits.npy", extra, [str(v) for v in y[:-HOLDOUT]]


def text_setup(folder: Path, n: int = 3000, seed: int = 0):
    """reviews.csv: generated texts of four topics, mostly common words (a hard-ish task)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    topics = list(TOPICS)
    truth = [topics[k] for k in rng.integers(0, len(topics), n)]
    texts = []
    for k, topic in enumerate(truth):
        length = 3000 if k % 50 == 7 else int(rng.integers(20, 400))
        words = rng.choice(COMMON, length).astype(object)
        own = rng.random(length) < 0.08  # 8% of the words say the topic
        words[own] = rng.choice(TOPICS[topic].split(), int(own.sum()))
        texts.append(" ".join(words).capitalize() + ".")
    pd.DataFrame({"id": [f"rev-{k:05}" for k in range(n)], "text": texts}).to_csv(
        folder / "reviews.csv", index=False)
    extra = ["--text-column", "text", "--id-column", "id", "--classes", ",".join(topics)]
    return folder / "reviews.csv", extra, truth


SETUPS = {"cnn-digits": (digits_setup, "cnn"), "tfidf-text": (text_setup, "auto")}


def start_server(pool: Path, extra: list[str], folder: Path):
    log = folder / "server.log"
    cmd = [sys.executable, "-m", "skal", "label", str(pool), "--web", "--no-browser", *extra]
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
    for _ in range(600):
        found = re.search(r"http://\S+token=\S+", log.read_text())
        if found:
            return proc, found.group(0), log
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"the server did not start:\n{log.read_text()}")


def _digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32), y


def drive(url: str, truth: list, n_answers: int, think_s: float, screenshot: str | None):
    from playwright.sync_api import sync_playwright

    driver, dry = [], 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1200, "height": 760}, bypass_csp=True)
        page.goto(url)
        page.wait_for_selector("#sample:not([data-index=''])", timeout=60_000)
        keys = dict(page.eval_on_selector_all(
            "#buttons button", "bs => bs.map(b => [b.dataset.label, b.dataset.key])"))
        for _ in range(n_answers):
            time.sleep(think_s)
            i = int(page.get_attribute("#sample", "data-index") or -1)
            if i < 0:  # nothing shown: the page waits for samples
                dry += 1
                page.wait_for_selector("#sample:not([data-index=''])", timeout=60_000)
                i = int(page.get_attribute("#sample", "data-index"))
            t0 = time.perf_counter()
            page.keyboard.press(keys[truth[i]])
            page.wait_for_function(
                "i => document.querySelector('#sample').dataset.index !== String(i)",
                arg=i, timeout=60_000, polling="raf")
            driver.append((time.perf_counter() - t0) * 1000)
        page.wait_for_function("() => document.body.dataset.pending === '0'")
        timings = page.evaluate("window.skal.timings")
        if screenshot:
            time.sleep(1.0)
            page.screenshot(path=screenshot)
        browser.close()
    return np.array(timings[-n_answers:]), np.array(driver), dry


def run_setup(name: str, args) -> dict:
    prepare, model = SETUPS[name]
    with tempfile.TemporaryDirectory() as tmp:
        pool, extra, truth = prepare(Path(tmp))
        proc, url, log = start_server(pool, [*extra, "--model", model], Path(tmp))
        try:
            t0 = time.perf_counter()
            shot = args.screenshot if name == "tfidf-text" else None
            page_ms, driver_ms, dry = drive(url, truth, args.answers, args.think_ms / 1000, shot)
            elapsed = time.perf_counter() - t0
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(60)
        refits = re.findall(r"round (\d+): (\d+) labels", log.read_text())
    rows = []
    for measure, ms in (("page (key -> painted)", page_ms),
                        ("driver (press -> seen)", driver_ms)):
        rows.append({"measure": measure, "n": len(ms), "p50_ms": round(float(np.median(ms)), 1),
                     "p95_ms": round(float(np.percentile(ms, 95)), 1),
                     "max_ms": round(float(ms.max()), 1)})
    print(f"{name}: {args.answers} answers, think time {args.think_ms:.0f} ms, model {model}, "
          f"{len(refits)} background refits, {dry} times the page had nothing to show, "
          f"{elapsed:.0f} s")
    print("| measure | n | p50 ms | p95 ms | max ms |\n|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['measure']} | {r['n']} | {r['p50_ms']} | {r['p95_ms']} | {r['max_ms']} |")
    return {"setup": name, "model": model, "answers": args.answers,
            "refits": [{"round": int(a), "n_labeled": int(b)} for a, b in refits],
            "empty_page_events": dry, "seconds": round(elapsed, 1), "rows": rows,
            "page_ms": page_ms.round(2).tolist(), "driver_ms": np.round(driver_ms, 2).tolist()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--answers", type=int, default=200)
    parser.add_argument("--think-ms", type=float, default=300.0)
    parser.add_argument("--setup", choices=(*SETUPS, "all"), default="all")
    parser.add_argument("--screenshot", default=None,
                        help="save a screenshot of the text pool's page at the end there")
    parser.add_argument("--output", default=str(HERE / "results" / "web_wait.json"))
    args = parser.parse_args()
    names = list(SETUPS) if args.setup == "all" else [args.setup]
    result = {
        "think_ms": args.think_ms, "setups": [run_setup(name, args) for name in names],
        "machine": f"{platform.platform()}, {os.cpu_count()} CPUs",
        "target": "p95 of the page wait under 100 ms",
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
