"""Data problems seen through the real command (``regulab fit FILE --target y``): a wide header,
values that overflow float64, categorical encoding. Each bad input gets one line on stderr."""

import numpy as np
import pytest

from regulab.cli import main


def run_cli(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    cap = capsys.readouterr()
    return exc.value.code, cap.out, cap.err


def test_fit_reads_a_header_wider_than_the_sample(tmp_path, capsys):
    """p >> n: a header line over 64 KiB (the sniffing sample) is read whole."""
    rng = np.random.default_rng(0)
    p, n = 3_000, 12
    names = [f"gene_expression_{i:05d}" for i in range(p)]
    x = rng.integers(0, 10, (n, p))
    y = 2 * x[:, 0] + rng.integers(0, 3, n)
    f = tmp_path / "wide.csv"
    f.write_text(",".join(names + ["y"]) + "\n"
                 + "".join(",".join(map(str, r)) + f",{v}\n" for r, v in zip(x, y)))
    assert f.read_text().index("\n") > 64 * 1024
    code, out, err = run_cli(["fit", str(f), "--target", "y", "--lam", "3"], capsys)
    assert code == 0, err
    assert f"12 rows x {p} features" in out and "gene_expression_00000" in out


@pytest.mark.parametrize("big", ["1e200", "-1e308"])
@pytest.mark.parametrize("extra", [[], ["--lam", "0.1"], ["--no-standardize"]])
def test_fit_refuses_values_that_overflow(tmp_path, capsys, recwarn, big, extra):
    """A finite value whose square or sum overflows float64 is refused before any fit, like inf:
    one line naming the file, the column and the row, and no RuntimeWarning."""
    rows = [f"{i},{(3 * i) % 7},{(5 * i) % 11}" for i in range(2, 12)]
    f = tmp_path / "big.csv"
    f.write_text("size,z,y\n" + f"{big},1,2\n" + "\n".join(rows) + "\n")
    code, out, err = run_cli(["fit", str(f), "--target", "y", *extra], capsys)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert str(f) in lines[0] and "column 'size'" in lines[0] and "data row 1" in lines[0]
    assert "overflow" in lines[0] and "column 0" not in lines[0]
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
    # the target too
    f.write_text("y,z,x\n" + f"{big},1,2\n" + "\n".join(rows) + "\n")
    code, out, err = run_cli(["fit", str(f), "--target", "y", *extra], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "target 'y'" in err and "data row 1" in err and "overflow" in err
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
