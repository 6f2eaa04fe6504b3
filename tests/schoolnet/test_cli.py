import subprocess
import sys

import pytest

from schoolnet.cli import build_parser, main


def test_help_explains_every_option():
    text = build_parser().format_help()
    assert "run" in text
    run_help = subprocess.run([sys.executable, "-m", "schoolnet.cli", "run", "--help"], capture_output=True,
                              text=True, check=True).stdout
    for option in ("--raw-dir", "--warehouse-dir", "--fiscal-year", "--full-refresh"):
        assert option in run_help


def test_bad_fiscal_year_is_refused(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--fiscal-year", "64"])
    assert "not a fiscal year" in capsys.readouterr().err


def test_missing_raw_dir_is_a_clear_error(tmp_path, capsys):
    assert main(["run", "--raw-dir", str(tmp_path / "nope"), "--warehouse-dir", str(tmp_path), "--no-prefect"]) == 2
    assert "does not exist" in capsys.readouterr().err
