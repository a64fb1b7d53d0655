"""Server-side state of the lab: what must not travel to the browser, every store bounded.

:class:`LabState` holds the app's settings (upload cap, whether the neural-net view is on), the
loaded tables (built-in or uploaded), results computed once per key (the data view's paths) and
one small training run per browser session (:class:`NNRuns`). :class:`NNRun` is that run: a
network trained one epoch at a time by a background thread, read through snapshots.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
import uuid
from collections import OrderedDict

import numpy as np

from regulab.app.uploads import (
    MAX_UPLOAD_BYTES,
    decode_upload,
    display_name,
    read_upload,
)

_SESSION = re.compile(r"^[0-9a-f]{32}$")


def new_session_id() -> str:
    """A fresh browser session id (32 hex digits; anything else is refused)."""
    return uuid.uuid4().hex


def _remember(lock, store: OrderedDict, key, value, limit: int) -> None:
    """Store ``value`` as the most recent entry, dropping the least recently used over ``limit``."""
    with lock:
        store[key] = value
        store.move_to_end(key)
        while len(store) > limit:
            store.popitem(last=False)


class LabState:
    """Server-side state: settings, tables, results computed once, neural-net runs."""

    def __init__(self, max_upload_bytes: int = MAX_UPLOAD_BYTES, max_tables: int = 12,
                 max_paths: int = 24, max_nn_runs: int = 4, *, nn_enabled: bool = False):
        self.max_upload_bytes = int(max_upload_bytes)
        self.nn_enabled = bool(nn_enabled)
        self.max_tables, self.max_paths = max_tables, max_paths
        self.tables: OrderedDict = OrderedDict()      # key -> (frame, name, default target)
        self.paths: OrderedDict = OrderedDict()       # key -> result, see once()
        self.lock = threading.Lock()
        self._computing: dict = {}
        self.nn = NNRuns(max_nn_runs)

    # -- tables ------------------------------------------------------------------------------
    def table(self, key: str):
        """``(frame, name, default target)`` of a built-in name or an ``upload:`` key."""
        from regulab.data.datasets import BUILTIN_DATASETS, load_builtin

        with self.lock:
            if key in self.tables:
                self.tables.move_to_end(key)
                return self.tables[key]
        if key in BUILTIN_DATASETS:
            df, target, _ = load_builtin(key, seed=0)
            value = (df, key, target)
            _remember(self.lock, self.tables, key, value, self.max_tables)
            return value
        raise KeyError(key)

    def add_upload(self, contents: str, filename,
                   max_columns: int | None = None) -> tuple[str, str, int, int]:
        """Decode, size-check, parse and shape-check an upload (``max_columns``: see
        :func:`regulab.app.uploads.check_shape`); returns ``(key, name, rows, columns)``."""
        raw = decode_upload(contents, filename, self.max_upload_bytes)
        key = "upload:" + hashlib.sha256(raw).hexdigest()[:24]
        name = display_name(filename)
        df = read_upload(raw, filename, self.max_upload_bytes, max_columns)
        target = str(df.columns[-1])
        _remember(self.lock, self.tables, key, (df, name, target), self.max_tables)
        return key, name, int(df.shape[0]), int(df.shape[1])

    # -- results computed once ---------------------------------------------------------------
    def once(self, key, compute):
        """``compute()``'s result for ``key``, computed once and cached (at most ``max_paths``,
        least recently used dropped first). A request for a key that another request is
        computing waits for it instead of computing it twice."""
        with self.lock:
            if key in self.paths:
                self.paths.move_to_end(key)
                return self.paths[key]
            event = self._computing.get(key)
            owner = event is None
            if owner:
                event = self._computing[key] = threading.Event()
        if not owner:
            event.wait(300)
            with self.lock:
                if key in self.paths:
                    return self.paths[key]
        try:
            value = compute()
            _remember(self.lock, self.paths, key, value, self.max_paths)
            return value
        finally:
            with self.lock:
                self._computing.pop(key, None)
            event.set()


# ----------------------------------------------------------------------------- the training thread

#: the neural-net view's network and training (Nielsen's digits MLP, see its layout text)
#: ``poll_grace_s``: training pauses when the page has not asked for news for that long (it
#: asks every 400 ms while training; a busy machine delays a tick by seconds, a closed tab or
#: another view stops them): no thread trains for a page nobody looks at
NN = {"sizes": (64, 30, 10), "batch_size": 10, "lr": 0.5, "max_epochs": 150, "tol": 1e-3,
      "bins": 61, "seed": 0, "pause_s": 0.08, "poll_grace_s": 8.0}


def nielsen_convention(kind: str) -> str | None:
    """The :mod:`regulab.core.conventions` name that reads Nielsen's lam for a training kind
    (``l2``: ``lam/(2n) sum w**2``; either L1 kind: ``lam/n sum |w|``); None for ``none``."""
    if kind == "none":
        return None
    return "nielsen-l2" if kind == "l2" else "nielsen-l1"


def nn_penalty(kind: str, lam: float, n: int):
    """``(penalty, prox)`` for :func:`regulab.nn.fit` from Nielsen's lam: the L1 proximal step
    (``l1-prox``) is a prox, the others a penalty in the loss."""
    from regulab.nn import NNPenalty

    conv = nielsen_convention(kind)
    if conv is None or lam == 0:
        return None, None
    pen = NNPenalty.from_convention(conv, {"lam": float(lam)}, n_samples=n)
    return (None, pen) if kind == "l1-prox" else (pen, None)


_TORCH = threading.Lock()


class _one_torch_thread:
    """Torch work of the app runs on one intra-op thread, one session at a time: a 64-30-10
    network gains nothing from more, and on a busy machine several threads spin-wait on each
    other (we measured an epoch going from 40 ms to seconds). The process's setting is
    restored afterwards."""

    def __enter__(self):
        import torch

        _TORCH.acquire()
        self.prev = torch.get_num_threads()
        torch.set_num_threads(1)

    def __exit__(self, *exc):
        import torch

        torch.set_num_threads(self.prev)
        _TORCH.release()


class NNRun:
    """One browser session's network, trained by a background thread one epoch at a time.

    After each epoch the thread stores a :meth:`snapshot` (histograms, sparsity, history); the
    page's timer only reads the latest one, so drawing never waits for training. A new penalty
    or lam applies from the next epoch on: the weights are kept. Every request of the page
    calls :meth:`poll`; the thread pauses itself (``idle`` set) once ``NN["poll_grace_s"]``
    seconds of ``clock`` pass without one."""

    def __init__(self, clock=time.monotonic):
        import torch

        from regulab.nn import nielsen_mlp
        from regulab.report.claims.neural_net import DEFAULTS
        from regulab.report.claims.neural_net_runs import digits_split

        Xtr, ytr, Xte, yte, _, _ = digits_split(DEFAULTS, np.random.default_rng(NN["seed"]))
        self.X = torch.tensor(Xtr, dtype=torch.float32)
        self.y = torch.tensor(ytr)
        self.Xte = torch.tensor(Xte, dtype=torch.float32)
        self.yte = torch.tensor(yte)
        self.model = nielsen_mlp(NN["sizes"], seed=NN["seed"])
        self.lock = threading.Lock()          # held while the model is read or trained
        self.epoch = 0
        self.kind, self.lam = "l1-prox", 1.0
        self.changes: list[int] = []
        self.history = {"epoch": [], "accuracy": [], "fraction_zero": [],
                        "fraction_below_tol": [], "loss": []}
        self.last_loss = None
        self.error = None
        self.running = False
        self.closed = False
        self.idle = False                     # paused because the page stopped polling
        self.clock = clock
        self.last_poll = clock()
        self._control = threading.Lock()      # start() and the thread's decision to end
        self._thread = None
        with self.lock:
            self._record()

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    @property
    def finished(self) -> bool:
        return self.epoch >= NN["max_epochs"] or self.error is not None

    def set(self, kind: str, lam: float) -> None:
        """New penalty or lam: the network keeps training from where it is."""
        if (kind, lam) != (self.kind, self.lam):
            if self.epoch > 0 and (not self.changes or self.changes[-1] != self.epoch):
                self.changes.append(self.epoch)
            self.kind, self.lam = kind, lam

    def poll(self) -> None:
        """The page asked for news: it is still there."""
        self.last_poll = self.clock()

    def start(self) -> None:
        with self._control:
            if self.finished or self.closed:
                return
            self.poll()
            self.idle = False
            self.running = True
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="regulab-nn",
                                                daemon=True)
                self._thread.start()

    def pause(self) -> None:
        self.running = False

    def close(self) -> None:
        self.closed, self.running = True, False

    def _loop(self) -> None:
        while True:
            with self._control:            # decided with start(): a start is never lost
                if self.running and self.clock() - self.last_poll > NN["poll_grace_s"]:
                    self.idle = True       # nobody is looking: stop, Resume starts again
                if not self.running or self.idle or self.closed or self.finished:
                    self.running, self._thread = False, None
                    return
            self.step()
            time.sleep(NN["pause_s"])      # leave the CPU to the page and the other views

    def step(self) -> None:
        """Train one epoch with the current setting (minibatch order seeded by the epoch)."""
        from regulab.nn import TrainingDiverged, fit

        with self.lock:
            if self.finished:
                return
            penalty, prox = nn_penalty(self.kind, self.lam, self.n)
            try:
                with _one_torch_thread():
                    h = fit(self.model, self.X, self.y, epochs=1, batch_size=NN["batch_size"],
                            lr=NN["lr"], penalty=penalty, prox=prox,
                            seed=NN["seed"] * 100_003 + self.epoch)
            except TrainingDiverged as exc:
                self.error = str(exc)
                return
            self.epoch += 1
            self.last_loss = h.loss[-1]
            self._record()

    def _record(self) -> None:
        """Measure the network (called with the lock held) and store a snapshot."""
        import torch

        from regulab.nn import sparsity, weight_histograms

        with torch.no_grad(), _one_torch_thread():
            acc = float((self.model(self.Xte).argmax(-1) == self.yte).float().mean())
            sp = sparsity(self.model, tol=NN["tol"])
            hist = weight_histograms(self.model, bins=NN["bins"])
        h = self.history
        h["epoch"].append(self.epoch)
        h["accuracy"].append(acc)
        h["fraction_zero"].append(sp["fraction_zero"])
        h["fraction_below_tol"].append(sp["fraction_below_tol"])
        h["loss"].append(self.last_loss)
        self.snap = {"epoch": self.epoch, "hist": {k: v[0] for k, v in hist.items()},
                     "edges": next(iter(hist.values()))[1], "sparsity": sp,
                     "exact_zeros": sp["exact_zeros"], "n_weights": sp["n"],
                     "history": {k: list(v) for k, v in h.items()},
                     "changes": list(self.changes), "tol": NN["tol"]}

    def snapshot(self) -> dict:
        """The measurements after the latest epoch (no torch work: safe while training)."""
        return dict(self.snap, changes=list(self.changes))


class NNRuns:
    """At most ``limit`` runs, one per browser session (least recently used dropped first)."""

    def __init__(self, limit: int = 4):
        self.limit = limit
        self.runs: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, sid: str, create: bool = True):
        """The session's run (a new one when it has none and ``create``); ValueError for an id
        that is not a session id."""
        if not isinstance(sid, str) or not _SESSION.match(sid):
            raise ValueError("bad session id")
        with self.lock:
            run = self.runs.get(sid)
            if run is not None:
                self.runs.move_to_end(sid)
                return run
        if not create:
            return None
        run = NNRun()
        with self.lock:
            self.runs[sid] = run
            while len(self.runs) > self.limit:
                self.runs.popitem(last=False)[1].close()
        return run

    def reset(self, sid: str):
        """A fresh run for the session (its old one closed)."""
        with self.lock:
            old = self.runs.pop(sid, None)
        if old is not None:
            old.close()
        return self.get(sid)
