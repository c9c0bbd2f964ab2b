"""The FILE chapter, run as a user runs it, fails broken downloads with the right rule IDs.

Child ``pytest spec --target=...`` runs, one chapter part each, read through
their JSON reports: the tutorial's download, and the hypothesis properties
(which only pytest runs) each on a download that breaks them. The download
that sends past its Content-Length (``reads_to_end``) and every other broken
one are shown failing, check by check, in ``tests/test_file_checks_fail.py``.
"""

from __future__ import annotations

from pathlib import Path

from tests.run_suite import run_spec

BROKEN = "--target=tests.broken.file_apps:"


def test_tutorial_generator_blocks_and_oversends(tmp_path: Path) -> None:
    """The source document's blocking ``open()``/``read()`` generator with its stat-time length."""
    run = run_spec(tmp_path, "--rules=FILE-LOOP-*,FILE-LENGTH-*", BROKEN + "tutorial")
    assert run.returncode == 1
    assert {"FILE-LOOP-01", "FILE-LENGTH-01", "FILE-LENGTH-02"} <= run.failing()
    assert "BlockingError" in run.output


def test_ignoring_range_fails_the_range_rules(tmp_path: Path) -> None:
    """A download that never looks at ``Range``, and the property that draws range sets."""
    run = run_spec(tmp_path, "--rules=FILE-RANGE-*", BROKEN + "ignores_range")
    assert run.returncode == 1
    assert {"FILE-RANGE-01", "FILE-RANGE-02", "FILE-RANGE-03", "FILE-RANGE-06"} <= run.failing()
    assert not {"FILE-RANGE-04", "FILE-RANGE-08"} & run.failing(), (
        "a malformed range gets the whole file anyway"
    )


def test_handing_parts_over_by_path_fails_the_range_rules_on_granian(tmp_path: Path) -> None:
    """A download that hands a 206 to the server by path (pathsend sends whole files): granian
    sends the file's first bytes, cut at the part's Content-Length, in place of the part."""
    target = BROKEN + "hands_parts_over"
    (tmp_path / "granian").mkdir()
    (tmp_path / "uvicorn").mkdir()
    run = run_spec(tmp_path / "granian", "--rules=FILE-RANGE-*", "--server=granian", target)
    assert run.returncode == 1
    assert {"FILE-RANGE-01", "FILE-RANGE-02", "FILE-RANGE-06"} <= run.failing()
    on_uvicorn = run_spec(tmp_path / "uvicorn", "--rules=FILE-RANGE-*", target)
    assert on_uvicorn.failing() == set(), "uvicorn offers no pathsend: the reference's reading"


def test_unchecked_join_fails_the_name_rules(tmp_path: Path) -> None:
    """``root / name`` served without checks: the named cases and the hostile-name property."""
    run = run_spec(tmp_path, "--rules=FILE-NAME-*", BROKEN + "naive_join")
    assert run.returncode == 1
    assert run.failing() == {"FILE-NAME-01", "FILE-NAME-02"}
    assert "target=b'../outside.txt'" in run.output, "hypothesis shows the minimal target"


def test_unescaped_disposition_fails_the_name_property(tmp_path: Path) -> None:
    """``filename="{name}"`` as the source document writes it: hypothesis finds a breaking name."""
    run = run_spec(
        tmp_path,
        "--rules=FILE-DISP-01",
        "-k",
        "check_any_name_round_trips",
        BROKEN + "raw_disposition",
    )
    assert run.returncode == 1
    assert run.failing() == {"FILE-DISP-01"}
