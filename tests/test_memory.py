"""regulab.core.memory: the estimates against the bytes numpy and scipy really allocate, the
available memory read from fake /proc and cgroup files, and the guards' one-line refusals (the
data layer's included: they name the file and both sizes)."""

from __future__ import annotations

import math
import os
import sys
import types

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from regulab.core import memory
from regulab.data.errors import DataError
from regulab.data.prepare import prepare
from regulab.data.reading import read_table

GiB = 2**30


# ----------------------------------------------------------------------------- estimates

@pytest.mark.parametrize("n, p", [(1, 1), (37, 11), (1000, 500)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dense_x_bytes_is_what_numpy_allocates(n, p, dtype):
    assert memory.x_bytes(n, p, dtype=dtype) == np.zeros((n, p), dtype=dtype).nbytes


@pytest.mark.parametrize("fmt", ["csc", "csr"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_x_bytes_is_what_scipy_allocates(fmt, dtype):
    n, p, density = 400, 50, 0.1             # density * n * p = 2000 non-zeros exactly
    rng = np.random.default_rng(0)
    flat = rng.choice(n * p, size=2000, replace=False)
    X = sparse.coo_matrix((np.ones(2000, dtype=dtype), np.unravel_index(flat, (n, p))),
                          shape=(n, p)).asformat(fmt)
    real = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    if fmt == "csc":  # the formula counts p + 1 column pointers (CSC, the solver's format)
        assert memory.x_bytes(n, p, density=density, dtype=dtype) == real
    assert memory.path_memory_for(X, n_lams=3).x == real


def test_memory_formula_by_hand():
    n, p, L = 20000, 50000, 100
    nnz = int(1e-3 * n * p)
    assert memory.x_bytes(n, p, density=1e-3) == nnz * 12 + (p + 1) * 4
    assert memory.x_bytes(n, p, density=1e-3, dtype=np.float32) == nnz * 8 + (p + 1) * 4
    assert memory.x_bytes(1000, 500) == 2 * memory.x_bytes(1000, 500, dtype=np.float32)
    est = memory.path_memory(n, p, density=1e-3, n_lams=L)
    m = min(p, 3000, int(1e8 // (8 * n)))
    csr = nnz * 12 + (n + 1) * 4  # the squared loss's CSR copy of a sparse X
    assert est.design == csr
    assert memory.path_memory(n, p, density=1e-3, n_lams=L, loss="logistic").design == 0
    assert est.solver == 8 * (10 * n + 20 * p) + 16 * m * m
    assert est.output == 8 * p * L + 40 * L
    assert memory.path_memory(n, p, density=1e-3, n_lams=L, convert=True).design == est.x + csr
    # the estimate from an actual X knows its format
    X = sparse.random(300, 200, density=0.05, format="csr", random_state=0)
    got = memory.path_memory_for(X, n_lams=10)
    copy = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes  # X converted to CSC
    assert got.design == 2 * copy  # + the CSR copy, the size of X in CSR
    assert memory.path_memory_for(X.tocsc(), n_lams=10).design == copy
    assert memory.path_memory_for(X.tocsc(), n_lams=10, loss="logistic").design == 0
    assert memory.path_memory_for(np.zeros((30, 20)), n_lams=5).design == 30 * 20 * 8
    assert memory.path_memory_for(np.zeros((30, 20), order="F"), n_lams=5).design == 0


def test_path_output_covers_what_a_path_returns():
    from regulab.selection.path import regularization_path

    rng = np.random.default_rng(1)
    X = np.asfortranarray(rng.standard_normal((60, 25)))
    y = X[:, 0] + 0.1 * rng.standard_normal(60)
    L = 7
    res = regularization_path(X, y, n_lams=L)
    returned = sum(getattr(res, a).nbytes for a in ("lams", "coefs", "intercepts", "gaps",
                                                     "n_iter", "converged"))
    est = memory.path_memory_for(X, n_lams=L)
    assert res.coefs.nbytes == 8 * 25 * L
    assert returned <= est.output <= returned + 40 * L
    assert est.design == 0 and est.x == X.nbytes


def test_resample_memory_by_hand():
    n, p, L = 1000, 200, 30
    per_worker, main = memory.resample_memory(n, p, n_lams=L, fraction=0.5, tasks_per_worker=2,
                                              results_held=5)
    m = 500                                                   # rows of a half-sample
    cache = min(p, 3000, int(1e8 // (8 * m)))
    sub_path = 8 * (10 * m + 20 * p) + 16 * cache**2 + 8 * m * cache + 8 * p * L + 40 * L
    task = m * p * 8 + sub_path + p * L                       # subsample + its path + uint8 result
    assert per_worker == memory.PROCESS_BASELINE + n * p * 8 + 2 * task
    assert main == memory.PROCESS_BASELINE + n * p * 8 + 5 * 8 * p * L


def test_design_of_prepare_is_x_bytes():
    """The data layer's design guard counts memory.x_bytes of the design it builds."""
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"a": rng.standard_normal(50), "c": rng.choice(list("uvw"), 50),
                       "y": rng.standard_normal(50)})
    X = prepare(df, "y").X
    # a numeric column and a three-level categorical: 1 + (3 - 1) indicators (k-1 encoding)
    assert X.shape == (50, 3) and X.nbytes == memory.x_bytes(*X.shape)


# ----------------------------------------------------------------------------- available memory

@pytest.fixture
def fake_system(tmp_path, monkeypatch):
    """No psutil, a fake /proc/meminfo, no os.sysconf, no cgroup files: each test sets what it
    needs."""
    monkeypatch.setitem(sys.modules, "psutil", None)   # `import psutil` raises ImportError
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       16000000 kB\nMemFree:         1000000 kB\n"
                       "MemAvailable:    8000000 kB\n")
    monkeypatch.setattr(memory, "MEMINFO", str(meminfo))
    monkeypatch.setattr(memory, "CGROUP_FILES", ())

    def no_sysconf(name):
        raise ValueError(name)

    monkeypatch.setattr(memory.os, "sysconf", no_sysconf)
    return tmp_path


def cgroup(tmp_path, monkeypatch, *pairs):
    """Point memory.CGROUP_FILES at fake (limit, usage) files; None: the file does not exist."""
    files = []
    for i, (limit, usage) in enumerate(pairs):
        lf, uf = tmp_path / f"limit{i}", tmp_path / f"usage{i}"
        if limit is not None:
            lf.write_text(f"{limit}\n")
        if usage is not None:
            uf.write_text(f"{usage}\n")
        files.append((str(lf), str(uf)))
    monkeypatch.setattr(memory, "CGROUP_FILES", tuple(files))


def test_meminfo_without_psutil(fake_system):
    assert memory.system_available() == 8000000 * 1024
    assert memory.cgroup_left() is None
    assert memory.available_memory() == 8000000 * 1024


def test_meminfo_first_then_psutil(fake_system, monkeypatch):
    # the kernel's MemAvailable first (no psutil import on Linux), psutil where it is missing
    fake = types.SimpleNamespace(virtual_memory=lambda: types.SimpleNamespace(available=12345))
    monkeypatch.setitem(sys.modules, "psutil", fake)
    assert memory.system_available() == 8000000 * 1024
    monkeypatch.setattr(memory, "MEMINFO", str(fake_system / "absent"))
    assert memory.system_available() == 12345


@pytest.mark.skipif(not os.path.exists("/proc/meminfo"), reason="Linux's /proc/meminfo")
def test_meminfo_is_what_psutil_reports():
    psutil = pytest.importorskip("psutil")
    ours, theirs = memory.system_available(), psutil.virtual_memory().available
    # read a moment apart on a machine that allocates meanwhile: equal within 5 %
    assert abs(ours - theirs) <= 0.05 * theirs


def test_meminfo_without_memavailable_and_no_sysconf_is_unknown(fake_system, monkeypatch):
    (fake_system / "meminfo").write_text("MemTotal: 16000000 kB\n")
    assert memory.system_available() is None and memory.available_memory() is None
    monkeypatch.setattr(memory, "MEMINFO", str(fake_system / "absent"))
    assert memory.available_memory() is None


def test_sysconf_fallback(fake_system, monkeypatch):
    monkeypatch.setattr(memory, "MEMINFO", str(fake_system / "absent"))
    pages = {"SC_AVPHYS_PAGES": 1000, "SC_PAGE_SIZE": 4096}
    monkeypatch.setattr(memory.os, "sysconf", pages.__getitem__)
    assert memory.available_memory() == 4096000


def test_cgroup_v2_limit_caps_the_system(fake_system, monkeypatch):
    cgroup(fake_system, monkeypatch, (2 * GiB, GiB // 2))                 # memory.max, .current
    assert memory.cgroup_left() == 1.5 * GiB
    assert memory.available_memory() == 1.5 * GiB                         # < 8,000,000 KiB
    cgroup(fake_system, monkeypatch, (100 * GiB, GiB))                    # a limit above the
    assert memory.available_memory() == 8000000 * 1024                    # system: the system


def test_cgroup_v2_max_means_no_limit(fake_system, monkeypatch):
    cgroup(fake_system, monkeypatch, ("max", 12345))
    assert memory.cgroup_left() is None
    assert memory.available_memory() == 8000000 * 1024


def test_cgroup_v1_limit_and_its_no_limit_value(fake_system, monkeypatch):
    cgroup(fake_system, monkeypatch, (None, None), (3 * GiB, GiB))       # no v2 files, v1 set
    assert memory.available_memory() == 2 * GiB
    cgroup(fake_system, monkeypatch, (None, None), (9223372036854771712, GiB))  # v1 "unlimited"
    assert memory.cgroup_left() is None


def test_cgroup_v1_and_v2_the_smallest_wins(fake_system, monkeypatch):
    cgroup(fake_system, monkeypatch, (4 * GiB, GiB), (3 * GiB, 2 * GiB))
    assert memory.cgroup_left() == GiB


def test_cgroup_bad_files_are_ignored(fake_system, monkeypatch):
    cgroup(fake_system, monkeypatch, ("garbage", 1), (GiB, None), (GiB, "x"), ("", 0))
    assert memory.cgroup_left() is None
    assert memory.available_memory() == 8000000 * 1024


def test_cgroup_over_its_limit_leaves_zero(fake_system, monkeypatch):
    cgroup(fake_system, monkeypatch, (GiB, GiB + 4096))
    assert memory.cgroup_left() == -4096
    assert memory.available_memory() == 0


def test_cgroup_alone_when_the_system_cannot_tell(fake_system, monkeypatch):
    monkeypatch.setattr(memory, "MEMINFO", str(fake_system / "absent"))
    cgroup(fake_system, monkeypatch, (GiB, 0))
    assert memory.available_memory() == GiB


def test_real_machine_answers_something_sane():
    avail = memory.available_memory()
    assert avail is None or avail > 0


# ----------------------------------------------------------------------------- guards

def test_check_memory_threshold_and_message():
    memory.check_memory(1000, available=1000)
    memory.check_memory(500, available=1000, fraction=0.5)
    with pytest.raises(memory.InsufficientMemoryError) as info:
        memory.check_memory(501, available=1000, fraction=0.5, what="a thing", hint="do less")
    err = info.value
    assert isinstance(err, ValueError) and (err.need, err.available) == (501, 1000)
    assert str(err) == ("not enough memory: a thing needs about 501 B, 1000 B available "
                        "(50% of it usable); do less")
    with pytest.raises(memory.InsufficientMemoryError, match=r"needs about 3\.00 GiB, "
                                                           r"2\.00 GiB available; "):
        memory.check_memory(3 * GiB, available=2 * GiB)


def test_check_memory_asks_available_memory_when_not_told(monkeypatch):
    monkeypatch.setattr(memory, "available_memory", lambda: 2048)
    memory.check_memory(2048)
    with pytest.raises(memory.InsufficientMemoryError, match="2.00 KiB available"):
        memory.check_memory(2049)
    monkeypatch.setattr(memory, "available_memory", lambda: None)
    memory.check_memory(10**18)                                  # unknown: no check


def test_format_bytes_both_styles():
    assert [memory.format_bytes(v) for v in (0, 1023, 1024, 1536 * 2**20, 2**40)] == \
        ["0 B", "1023 B", "1.00 KiB", "1.50 GiB", "1024.00 GiB"]
    units = ("bytes", "KiB", "MiB", "GiB", "TiB")
    assert [memory.format_bytes(v, 1, units=units) for v in (500, 4000, 2**40 * 3)] == \
        ["500 bytes", "3.9 KiB", "3.0 TiB"]


def test_memory_guard_refuses_with_the_number():
    X = sparse.random(2000, 5000, density=0.01, format="csc", random_state=0)
    est = memory.guard_path(X, n_lams=50, available=10**12)
    with pytest.raises(memory.InsufficientMemoryError) as info:
        memory.guard_path(X, n_lams=50, available=1000)
    msg = str(info.value)
    assert isinstance(info.value, ValueError) and "\n" not in msg
    assert memory.format_bytes(est.total) in msg and "available" in msg
    assert msg.startswith("not enough memory: a path on X (2000 x 5000 sparse, density 0.01, "
                          "float64, 50 lams) needs about ")
    need = memory.guard_resamples(X, n_lams=30, n_workers=2, available=10**12)
    with pytest.raises(memory.InsufficientMemoryError, match=memory.format_bytes(need)):
        memory.guard_resamples(X, n_lams=30, n_workers=2, available=need - 1)
    assert memory.available_memory() is None or memory.available_memory() > 0


def one_line_data_error(fn, *args, **kwargs) -> str:
    with pytest.raises(DataError) as info:
        fn(*args, **kwargs)
    msg = str(info.value)
    assert "\n" not in msg
    return msg


def test_file_guard_names_the_file_and_both_sizes(tmp_path, monkeypatch):
    f = tmp_path / "big.csv"
    f.write_text("a,y\n" + "1,2\n" * 249)                      # 4 + 249 * 4 = 1000 bytes
    assert f.stat().st_size == 1000
    monkeypatch.setattr(memory, "available_memory", lambda: 4000)  # limit 4000 * 0.5 / 4 = 500
    assert one_line_data_error(read_table, f) == (
        f"{f}: the file is 1000 bytes, too large to read safely: the limit is 500 bytes (1/8 of "
        f"the 3.9 KiB of memory available); use a sample of the rows")
    monkeypatch.setattr(memory, "available_memory", lambda: 8000)  # limit 1000: read
    assert len(read_table(f)) == 249


def test_design_guard_names_the_source_and_both_sizes(monkeypatch):
    rng = np.random.default_rng(3)
    df = pd.DataFrame(rng.standard_normal((1000, 4)), columns=["a", "b", "c", "y"])
    # 3 copies of a 1000 x 3 float64 design: 72,000 bytes; half of 100,000 is 50,000
    monkeypatch.setattr(memory, "available_memory", lambda: 100_000)
    assert one_line_data_error(prepare, df, "y", source_name="d.csv") == (
        "d.csv: the 1,000 x 3 design matrix would need about 70.3 KiB of memory, more than half "
        "of the 97.7 KiB available; use fewer rows or columns")
    monkeypatch.setattr(memory, "available_memory", lambda: 144_000)   # exactly twice the need
    assert prepare(df, "y").X.shape == (1000, 3)


def test_data_layer_honours_the_cgroup_limit(fake_system, monkeypatch, tmp_path):
    """The data layer once read the system's memory only; in a container it now sees the limit."""
    f = tmp_path / "t.csv"
    f.write_text("a,y\n" + "1,2\n" * 249)
    cgroup(fake_system, monkeypatch, (GiB + 4000, GiB))         # 4000 bytes left
    msg = one_line_data_error(read_table, f)
    assert msg.endswith("the limit is 500 bytes (1/8 of the 3.9 KiB of memory available); use a "
                        "sample of the rows")
    assert math.isclose(memory.available_memory(), 4000)
