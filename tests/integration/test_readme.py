"""The README as a newcomer reads it: its console blocks run in order, on a fresh `make run`.

A "clone" is set up in a temporary folder: build/ holds the slad and slactl under test,
conf/ and doc/ are the repository's, and run/slad.conf is made by the Makefile's own rule
(the one `make run` uses). The daemon runs on it as `make run` runs it. Each `$ ` command
of every ```console block of README.md then runs in that folder with bash, in order, the
shell's exports carried from one command to the next, as in one terminal. A command must
exit 0, and every word of the output the README shows under it must be in what it printed,
except the words that change from run to run (times, durations, decimals) and `...`.
"""

import os
import re
import shlex
import subprocess

import pytest

from conftest import Daemon

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
README = os.path.join(REPO, "README.md")
COMMAND_TIMEOUT_S = 60

# Words of shown output that differ from run to run.
VARYING = re.compile(
    r"\d{4}-\d\d-\d\d"  # a date, in any form
    r"|\d\d:\d\d"  # a time of day
    r"|^\d+[dhms](\d+[dhms])*$"  # a duration: 59m59s, 1d11h
    r"|^\d+\.\d+$"  # a mean or a ratio
    r"|\.\.\."
)


def complete(command):
    """True when command needs no more lines: no open quote, no trailing backslash."""
    if command.endswith("\\"):
        return False
    try:
        shlex.split(command, comments=True)
    except ValueError:
        return False
    return True


def console_examples(text):
    """[(line, command, shown output)] of every ```console block, in order."""
    examples = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].strip() != "```console":
            i += 1
            continue
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            assert lines[i].startswith("$ "), f"README.md:{i + 1}: output before a command"
            start = i
            command = lines[i][2:]
            while not complete(command):
                i += 1
                command += "\n" + lines[i]
            i += 1
            shown = []
            while i < len(lines) and lines[i].strip() != "```" and not lines[i].startswith("$ "):
                shown.append(lines[i])
                i += 1
            examples.append((start + 1, command, "\n".join(shown)))
        i += 1
    return examples


def stable_words(shown):
    words = re.split(r"[\s{}\[\],]+", shown)
    return [w for w in words if w and not VARYING.search(w)]


@pytest.fixture
def clone(tmp_path):
    """The folder a newcomer works in, with `make run`'s daemon on run/."""
    root = tmp_path / "clone"
    (root / "build" / "daemon").mkdir(parents=True)
    (root / "build" / "slactl").mkdir()
    os.symlink(os.environ["SLAD_BIN"], root / "build" / "daemon" / "slad")
    os.symlink(os.environ["SLACTL_BIN"], root / "build" / "slactl" / "slactl")
    for name in ("conf", "doc"):
        os.symlink(os.path.join(REPO, name), root / name)
    (root / "run").mkdir()
    daemon = Daemon(root / "run")
    os.unlink(daemon.conf_path)
    r = subprocess.run(["make", "-s", "-C", REPO, f"RUN_DIR={root}/run", daemon.conf_path],
                       capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
    assert r.returncode == 0, f"make's run/slad.conf:\n{r.stdout}\n{r.stderr}"
    daemon.start()
    yield root
    daemon.stop()


def test_readme_console_blocks_run_as_shown(clone):
    with open(README, encoding="utf-8") as f:
        examples = console_examples(f.read())
    assert len(examples) >= 20, "the README's console examples were not found"
    state = clone / "shell-state"
    state.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACTL_")}
    for line, command, shown in examples:
        script = f'. "{state}"\n{command}\nrc=$?\nexport -p > "{state}"\nexit $rc\n'
        r = subprocess.run(["bash", "-c", script], cwd=clone, env=env, capture_output=True,
                           text=True, timeout=COMMAND_TIMEOUT_S)
        where = f"README.md:{line}: $ {command}\n--- stdout:\n{r.stdout}\n--- stderr:\n{r.stderr}"
        assert r.returncode == 0, f"exit status {r.returncode}\n{where}"
        missing = [w for w in stable_words(shown) if w not in r.stdout]
        assert not missing, f"the README shows {missing}, not printed\n{where}"


def test_readme_parser_sees_continuations():
    """The parser joins backslash and quoted continuations and keeps the shown output."""
    text = ("```console\n$ curl -d '{\n  \"a\": 1}' \\\n    http://x   # it's a comment\n"
            "{\"id\":1,...}\n$ true\n```\n")
    assert console_examples(text) == [
        (2, "curl -d '{\n  \"a\": 1}' \\\n    http://x   # it's a comment", "{\"id\":1,...}"),
        (6, "true", ""),
    ]
    assert stable_words('{"id":1,"due_at":"2026-11-23T12:21:43.578Z",...}') == ['"id":1']
    assert stable_words("response  running  1h  0s  2026-12-02 08:30:19  in 59m59s") == [
        "response", "running", "in"]


# A path in backquotes that starts in a folder of the repository (`tests/unit/x.c`) or
# above it (`../x`): the docs a newcomer reads name only files the repository has.
NAMED_PATH = re.compile(r"(\.\.|[\w-]+)/[\w./-]*")


def test_docs_name_only_files_the_repository_has():
    folders = {n for n in os.listdir(REPO) if os.path.isdir(os.path.join(REPO, n))}
    folders = (folders | {".."}) - {"build", "run"}
    missing = []
    for doc in ("README.md", "doc/ENGINE.md", "conf/slad.conf"):
        with open(os.path.join(REPO, doc), encoding="utf-8") as f:
            text = f.read()
        for word in ("../shared", "SPEC.md", "tests/sim"):
            if word in text:
                missing.append(f"{doc}: {word}")
        for m in re.finditer(r"`([^`\s]+)`", text):
            path = NAMED_PATH.fullmatch(m.group(1))
            if not path or path.group(1) not in folders:
                continue
            if not os.path.exists(os.path.join(REPO, path.group(0))):
                missing.append(f"{doc}: {path.group(0)}")
    assert not missing, "named but not in the repository: " + ", ".join(missing)
