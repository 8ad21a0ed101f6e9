"""compare_test_durations.py on small crafted testlog.json files (meson test 'bench-compare',
suite unit): thresholds, minimum over runs, tests on one side only, failed runs, exit codes."""

import io
import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import compare_test_durations as ctd  # noqa: E402

SCRIPT = os.path.join(HERE, "compare_test_durations.py")


def write_log(path, entries):
    """entries: (meson name, result, duration[, stdout]); written as meson does, one object
    a line, with the other fields a real log carries."""
    with open(path, "w") as f:
        for name, result, duration, *stdout in entries:
            f.write(json.dumps({"name": name, "stdout": stdout[0] if stdout else "x\n",
                                "result": result,
                                "starttime": 1796212757.0, "duration": duration,
                                "returncode": 0 if result == "OK" else 1,
                                "env": {"TZ": "UTC"}, "command": ["/bin/true"]}) + "\n")
        f.write("\n")  # a blank line is allowed
    return str(path)


def run(argv):
    out = io.StringIO()
    status = ctd.main(argv, out=out)
    return status, out.getvalue()


def test_no_test_slower_exits_0(tmp_path):
    before = write_log(tmp_path / "b.json", [("slad:unit / a", "OK", 10.0),
                                             ("slad:integration / b", "OK", 2.0)])
    after = write_log(tmp_path / "a.json", [("slad:unit / a", "OK", 12.4),   # 1.24x: under
                                            ("slad:integration / b", "OK", 1.0)])
    status, out = run([before, after])
    assert status == 0
    assert "flagged when > 1.25x and > 1 s slower: 0" in out
    assert "SLOWER" not in out
    # slowest (after) first, both durations and the ratio
    lines = out.splitlines()
    assert lines[1].split()[:4] == ["a", "10.00", "12.40", "1.24"]
    assert lines[2].split()[:4] == ["b", "2.00", "1.00", "0.50"]


def test_flag_needs_both_ratio_and_seconds(tmp_path):
    before = write_log(tmp_path / "b.json", [
        ("p:unit / tiny", "OK", 0.1),      # 3x but 0.2 s slower: not flagged
        ("p:unit / long", "OK", 100.0),    # 5 s slower but 1.05x: not flagged
        ("p:unit / slow", "OK", 4.0),      # 1.5x and 2 s slower: flagged
    ])
    after = write_log(tmp_path / "a.json", [("p:unit / tiny", "OK", 0.3),
                                            ("p:unit / long", "OK", 105.0),
                                            ("p:unit / slow", "OK", 6.0)])
    status, out = run([before, after])
    assert status == 1
    assert "SLOWER: slow: 4.00 s -> 6.00 s (1.50x)" in out
    assert "SLOWER: tiny" not in out and "SLOWER: long" not in out
    # the thresholds are options
    status, out = run(["--ratio", "2", "--min-slower", "0.1", before, after])
    assert status == 1
    assert "SLOWER: tiny" in out and "SLOWER: slow" not in out
    status, _ = run(["--ratio", "1.01", "--min-slower", "10", before, after])
    assert status == 0


def test_minimum_over_interleaved_runs(tmp_path):
    b1 = write_log(tmp_path / "b1.json", [("p:integration / t", "OK", 10.0)])
    b2 = write_log(tmp_path / "b2.json", [("p:integration / t", "OK", 8.0)])
    a1 = write_log(tmp_path / "a1.json", [("p:integration / t", "OK", 20.0)])  # a loaded run
    a2 = write_log(tmp_path / "a2.json", [("p:integration / t", "OK", 8.5)])
    status, out = run(["--before", b1, "--before", b2, "--after", a1, "--after", a2])
    assert status == 0
    assert out.splitlines()[1].split()[:4] == ["t", "8.00", "8.50", "1.06"]
    assert "minimum of 2 run(s) before, 2 after" in out
    # with the loaded run alone, it is flagged
    status, _ = run(["--before", b1, "--before", b2, "--after", a1])
    assert status == 1


def test_failed_runs_left_out_of_the_minimum(tmp_path):
    b = write_log(tmp_path / "b.json", [("p:unit / t", "OK", 5.0), ("p:unit / f", "OK", 5.0)])
    a1 = write_log(tmp_path / "a1.json", [("p:unit / t", "FAIL", 0.5),
                                          ("p:unit / f", "TIMEOUT", 900.0)])
    a2 = write_log(tmp_path / "a2.json", [("p:unit / t", "OK", 5.5)])
    status, out = run(["--before", b, "--after", a1, "--after", a2])
    assert status == 0
    assert out.splitlines()[1].split()[:4] == ["t", "5.00", "5.50", "1.10"]
    assert "not compared: f: no passing run after (TIMEOUT)" in out


def test_suites_changed_new_and_gone_tests(tmp_path):
    b = write_log(tmp_path / "b.json", [("slad:unit / store", "OK", 3.0),
                                        ("slad:unit / old", "OK", 1.0)])
    a = write_log(tmp_path / "a.json", [("slad:unit+postgres / store", "OK", 3.1),
                                        ("slad:integration+postgres / new", "OK", 60.0),
                                        ("slad:unit / skipped", "SKIP", 0.0)])
    status, out = run([b, a])
    assert status == 0  # a new test, however long, is not a regression
    assert out.splitlines()[1].split()[:4] == ["store", "3.00", "3.10", "1.03"]
    assert "only after (new): new, skipped" in out
    assert "only before (gone): old" in out


def test_top_keeps_every_flagged_test_and_markdown(tmp_path):
    names = [(f"p:unit / t{i:02d}", "OK", float(100 - i)) for i in range(20)]
    b = write_log(tmp_path / "b.json", names + [("p:unit / late", "OK", 1.0)])
    a = write_log(tmp_path / "a.json", names + [("p:unit / late", "OK", 3.0)])
    status, out = run(["--top", "3", "--markdown", b, a])
    assert status == 1
    table = [line for line in out.splitlines() if line.startswith("| ")]
    assert table[0] == ("| test | before (s) | after (s) | ratio | cases before -> after "
                        "| flagged |")
    assert [row.split(" | ")[0] for row in table[1:]] == ["| t00", "| t01", "| t02", "| late"]
    assert table[-1] == "| late | 1.00 | 3.00 | 3.00 | ? -> ? | **yes** |"


PYTEST_OUT = "....\n{n} passed, 1 skipped in 21.41s\n"
CMOCKA_OUT = ("[==========] Running {n} test(s).\n[ RUN      ] test_a\n[       OK ] test_a\n"
              "[==========] {n} test(s) run.\n[  PASSED  ] {n} test(s).\n")


def test_cases_from_the_output_a_test_that_does_more(tmp_path):
    b = write_log(tmp_path / "b.json", [
        ("p:integration / grew", "OK", 10.0, PYTEST_OUT.format(n=5)),
        ("p:integration / same", "OK", 10.0, PYTEST_OUT.format(n=5)),
        ("p:unit / groups", "OK", 2.0, CMOCKA_OUT.format(n=3) + CMOCKA_OUT.format(n=4)),
        ("p:unit / quiet", "OK", 1.0, ""),
    ])
    a = write_log(tmp_path / "a.json", [
        ("p:integration / grew", "OK", 20.0, PYTEST_OUT.format(n=9)),
        ("p:integration / same", "OK", 20.0, PYTEST_OUT.format(n=5)),
        ("p:unit / groups", "OK", 2.0, CMOCKA_OUT.format(n=7) + CMOCKA_OUT.format(n=1)),
        ("p:unit / quiet", "OK", 1.0, ""),
    ])
    status, out = run([b, a])
    assert status == 1  # flagged all the same: the reader judges, the line says why
    rows = {line.split()[0]: line for line in out.splitlines()[1:5]}
    assert rows["grew"].split()[4:] == ["5", "->", "9", "SLOWER"]
    assert rows["groups"].split()[4:] == ["7", "->", "8"]  # every cmocka group counted
    assert rows["quiet"].split()[4:] == ["?", "->", "?"]
    assert "SLOWER: grew: 10.00 s -> 20.00 s (2.00x); does more: 5 -> 9 cases" in out
    assert "SLOWER: same: 10.00 s -> 20.00 s (2.00x)\n" in out
    assert ctd.cases("=== 12 passed, 3 deselected in 1.50s ===") == 12


def test_unreadable_logs_exit_2(tmp_path, capsys):
    good = write_log(tmp_path / "g.json", [("p:unit / t", "OK", 1.0)])
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "p:unit / t", "result": "OK"}\n')  # no duration
    assert ctd.main([good, str(bad)], out=io.StringIO()) == 2
    assert "bad.json:1: not a meson test entry" in capsys.readouterr().err
    assert ctd.main([good, str(tmp_path / "missing.json")], out=io.StringIO()) == 2
    assert "missing.json" in capsys.readouterr().err
    (tmp_path / "junk.json").write_text("not json\n")
    assert ctd.main([str(tmp_path / "junk.json"), good], out=io.StringIO()) == 2


def test_usage_errors(tmp_path):
    good = write_log(tmp_path / "g.json", [("p:unit / t", "OK", 1.0)])
    for argv in ([good], [good, good, good], ["--before", good], [good, good, "--after", good]):
        with pytest.raises(SystemExit) as e:
            ctd.main(argv, out=io.StringIO())
        assert e.value.code == 2


def test_command_line_exit_status(tmp_path):
    """The script as CI runs it: /usr/bin/python3, its exit status and output."""
    b = write_log(tmp_path / "b.json", [("p:unit / t", "OK", 2.0)])
    a = write_log(tmp_path / "a.json", [("p:unit / t", "OK", 4.0)])
    done = subprocess.run([sys.executable, SCRIPT, b, a], capture_output=True, text=True)
    assert done.returncode == 1
    assert "SLOWER: t: 2.00 s -> 4.00 s (2.00x)" in done.stdout
    done = subprocess.run([sys.executable, SCRIPT, a, b], capture_output=True, text=True)
    assert done.returncode == 0
