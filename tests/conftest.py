import matplotlib

matplotlib.use("Agg")

import json  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture
def wide_console(monkeypatch):
    """A wide terminal so that rich tables never wrap a number (CLI output tests:
    ``pytestmark = pytest.mark.usefixtures("wide_console")``)."""
    monkeypatch.setenv("COLUMNS", "250")


@pytest.fixture(scope="session")
def explain_report(tmp_path_factory):
    """One whole ``regulab explain`` run at seed 0, shared by every test of the session:
    ``(out_dir, results.json as a dict, the ClaimResult list)``."""
    from regulab.report.claims import ExplainConfig
    from regulab.report.explain import explain

    out = tmp_path_factory.mktemp("report")
    results = explain(out, config=ExplainConfig(seed=0))
    return out, json.loads((out / "results.json").read_text()), results
