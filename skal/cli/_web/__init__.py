"""``skal label --web``: label in the browser while the model retrains in the background.

A local web server (Starlette + uvicorn, the optional extra ``skal[web]``) over one
:class:`skal.Campaign`; the page is plain HTML, CSS and JavaScript served by the package.
Only :func:`serve` is used by the command line; the modules are ``_render`` (how a sample
looks), ``_session`` (who labels what), ``_app`` (HTTP, the token) and ``static/``.
"""

from __future__ import annotations

import secrets
import socket
import sys
import threading
import webbrowser

__all__ = ["serve"]

MISSING = ("skal label --web needs the web extra: pip install 'skal[web]' "
           "(Starlette, uvicorn and Pillow)")


def serve(args, *, X, learner, journal, display_shape=None, classes=None, names=None,
          holdout=None, callbacks=(), imported=None, pool=None, start_from=None) -> int:
    """Run the labeling page until Ctrl-C; the exit status.

    Parameters
    ----------
    args : argparse.Namespace
        ``skal label``'s options; ``host``, ``port`` (None = a free one) and
        ``no_browser`` are read here.
    X : ndarray of shape (n_samples, n_features)
        The pool.
    learner : ActiveLearningClassifier
        What is trained, how samples are chosen, the batch size and budget.
    journal : LabelJournal
        Where answers go, each before its reply; a journal with answers resumes.
    display_shape : tuple of int or None
        The image shape of a sample, when it is one.
    classes, names, holdout
        The allowed labels (None: any), file names of an image folder, validation data.
    callbacks : sequence of callable
        Extra campaign callbacks (progress printing).
    imported : tuple or None
        ``(ids, labels, source)`` of a ``--labels`` file, answered once the campaign opens.
    pool : Pool or None
        The loaded pool (``skal.cli._pools``): its journal keys, and how a table or text
        sample is shown.
    start_from : fitted estimator or None
        A trained model the campaign starts from (``--model`` of your own).

    Returns
    -------
    int
        0 after Ctrl-C, 2 when the extra is missing or the port cannot be bound.

    Examples
    --------
    >>> from skal.cli import build_parser
    >>> args = build_parser().parse_args(["label", "pool.npy", "--web", "--no-browser"])
    >>> args.web, args.host, args.port, args.no_browser
    (True, '127.0.0.1', None, True)
    """
    try:
        import uvicorn  # noqa: F401 - the extra is there

        from skal.cli._web._app import create_app
    except ImportError:
        print(f"skal label: error: {MISSING}", file=sys.stderr)
        return 2
    campaign, session = _open_session(X, learner, journal, display_shape, classes, names,
                                      holdout, callbacks, imported, pool, start_from,
                                      target=getattr(args, "target", None) or "class")
    session.configure(overlap=getattr(args, "overlap", 0.0),
                      annotator=getattr(args, "annotator", None) or _default_name(journal),
                      save=getattr(args, "save", None))
    token = secrets.token_urlsafe(24)
    try:
        sock = _bind(args.host, args.port)
    except OSError as exc:
        print(f"skal label: error: cannot listen on {args.host}:{args.port}: {exc}",
              file=sys.stderr)
        return 2
    try:
        _run(create_app(session, token), sock, args.host, token, not args.no_browser,
             session)
    except KeyboardInterrupt:  # uvicorn shuts down gracefully, then raises it again
        pass
    finally:
        session.close()
    if session.finished is not None:  # the finish button fitted and saved already
        done = session.finished
        print(f"finished: {done.get('n_labeled')} labels and {done.get('n_skipped')} skips "
              f"in {done.get('journal')}; model {done.get('model')}"
              + (f"; saved the learner to {done['saved']}" if done.get("saved") else ""),
              flush=True)
        return 0
    print(f"stopped: {len(campaign.labeled_indices_)} labels and "
          f"{len(campaign.skipped_indices_)} skips in the journal; run the same command to "
          "continue.", flush=True)
    return _save(campaign, args.save) if getattr(args, "save", None) else 0


def _save(campaign, path) -> int:
    """``--save``: one last fit on every answer, then the learner to ``path``."""
    from skal.cli._kinds import learner_of

    try:
        campaign.refit()  # the model then matches the labeled set it is saved with
        saved = learner_of(campaign).save(path)
    except (TypeError, ValueError) as exc:
        print(f"skal label: error: not saved: {exc}", file=sys.stderr, flush=True)
        return 2
    print(f"saved the learner to {saved}", flush=True)
    return 0


def _open_session(X, learner, journal, display_shape, classes, names, holdout, callbacks,
                  imported=None, pool=None, start_from=None, target="class"):
    """The campaign (resumed from the journal, from a trained model, then a ``--labels``
    file) and the session that hands it out."""
    from skal import Campaign
    from skal.cli._data import answer_imported
    from skal.cli._kinds import campaign_learner
    from skal.cli._web._render import choose_display, pool_display, value_range
    from skal.cli._web._session import LabelSession

    campaign = Campaign(campaign_learner(learner, target), X, journal=journal,
                        callbacks=list(callbacks),
                        keys=None if pool is None else pool.keys)
    if start_from is not None and campaign.estimator_ is None:
        campaign.start_from(start_from)
    answer_imported(campaign, imported)
    display = pool_display(pool)  # a table or text pool's records; None for arrays
    if display is None:
        lo, hi = value_range(X)
        display = choose_display(X.shape[1], display_shape, lo=lo, hi=hi)
    return campaign, LabelSession(campaign, display, classes, names=names, holdout=holdout)


def _default_name(journal):
    """The journal's annotator (``skal label`` set it from ``--annotator`` or the OS user)."""
    return getattr(journal, "annotator", None)


def _run(app, sock, host: str, token: str, open_browser: bool, session=None) -> None:
    """Print the URL (with its token) and serve ``app`` on ``sock`` until Ctrl-C (or until
    the session's finish button was pressed)."""
    import uvicorn

    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{sock.getsockname()[1]}/?token={token}"
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: listening on {host}: anyone who can reach this machine and knows "
              "the URL can label", flush=True)
    print(f"labeling page: {url}\n(Ctrl-C to stop; answers are saved as they are given)",
          flush=True)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    if open_browser:
        threading.Timer(0.5, webbrowser.open, (url,)).start()
    server = uvicorn.Server(config)
    if session is not None:  # the finish button: its reply goes out, then the server stops
        session.on_finish = lambda: threading.Timer(
            1.0, setattr, (server, "should_exit", True)).start()
    server.run(sockets=[sock])


def _bind(host: str, port: int | None) -> socket.socket:
    """A listening socket on ``host:port`` (port None or 0: a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port or 0))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock
