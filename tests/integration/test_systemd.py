"""The installed layout and the systemd units: `meson install --destdir` into a temporary
folder, then `systemd-analyze verify` and `systemd-analyze security --offline=true` on the
installed units. (Socket activation and sd_notify are exercised in test_daemon.py.)

The build folder is the one that holds $SLAD_BIN; its meson-info tells where each file
goes, so the test follows whatever prefix the build was configured with.
"""

import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import slad_bin

MAX_EXPOSURE = 1.5
TIMEOUT_S = 120


def build_dir():
    d = os.path.dirname(os.path.dirname(os.path.abspath(slad_bin())))
    assert os.path.isdir(os.path.join(d, "meson-info")), f"'{d}' is not a meson build folder"
    return d


def installed_map():
    """Source or build path -> absolute install path, from meson's introspection."""
    with open(os.path.join(build_dir(), "meson-info", "intro-installed.json")) as f:
        return json.load(f)


def find_dest(suffix):
    matches = [dest for src, dest in installed_map().items() if dest.endswith(suffix)]
    assert len(matches) == 1, f"expected one installed file ending in '{suffix}': {matches}"
    return matches[0]


@pytest.fixture(scope="module")
def destdir(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("destdir"))
    r = subprocess.run(
        ["meson", "install", "-C", build_dir(), "--no-rebuild", "--quiet", "--destdir", root],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert r.returncode == 0, f"meson install failed:\n{r.stdout}\n{r.stderr}"
    return root


def staged(root, dest):
    return os.path.join(root, dest.lstrip("/"))


def test_install_layout(destdir):
    expected = [
        "/sbin/slad",
        "/systemd/system/slad.service",
        "/systemd/system/slad.socket",
        "/sysusers.d/slad.conf",
        "/tmpfiles.d/slad.conf",
        "/slad/slad.conf",
        "/slad/holidays-cn-2026.ics",
    ]
    if shutil.which("scdoc"):
        expected += ["/man8/slad.8", "/man5/slad.conf.5", "/man1/slactl.1"]
    for suffix in expected:
        path = staged(destdir, find_dest(suffix))
        assert os.path.isfile(path), f"'{suffix}' was not installed at '{path}'"
    assert os.access(staged(destdir, find_dest("/sbin/slad")), os.X_OK)
    if shutil.which("scdoc"):
        with open(staged(destdir, find_dest("/man5/slad.conf.5"))) as f:
            page = f.read()
        # Every section of the config file is documented.
        for key in ("daemon", "calendars", "contacts", "teams", "channels", "templates",
                    "policies", "repeat_fault", "escalate", "followups", "reminders"):
            assert key in page, f"slad.conf(5) does not mention '{key}'"


def test_service_paths_follow_prefix(destdir):
    with open(staged(destdir, find_dest("/systemd/system/slad.service"))) as f:
        unit = f.read()
    assert not re.search(r"@[a-z]+@", unit), "a placeholder was left in slad.service"
    sbin = find_dest("/sbin/slad")
    conf = find_dest("/slad/slad.conf")
    assert f"ExecStart={sbin} --config {conf}\n" in unit, unit
    with open(staged(destdir, find_dest("/systemd/system/slad.socket"))) as f:
        sock = f.read()
    assert "ListenStream=/run/slad/slad.sock" in sock
    assert "SocketMode=0660" in sock and "SocketGroup=slad" in sock


def staged_units(destdir, tmp_path):
    """The units with their program and config paths pointed into destdir, so that
    `verify` finds the executable it checks."""
    sbin, conf_dir = find_dest("/sbin/slad"), os.path.dirname(find_dest("/slad/slad.conf"))
    out = []
    for name in ("slad.service", "slad.socket"):
        with open(staged(destdir, find_dest("/systemd/system/" + name))) as f:
            text = f.read()
        text = text.replace(sbin, staged(destdir, sbin)).replace(
            conf_dir + "/", staged(destdir, conf_dir) + "/"
        )
        path = tmp_path / name
        path.write_text(text)
        out.append(str(path))
    return out


def analyze(*args):
    return subprocess.run(
        ["systemd-analyze", *args], capture_output=True, text=True, timeout=TIMEOUT_S
    )


def test_units_verify(destdir, tmp_path):
    units = staged_units(destdir, tmp_path)
    r = analyze("verify", "--man=no", *units)
    assert r.returncode == 0 and r.stderr.strip() == "", f"verify:\n{r.stdout}\n{r.stderr}"


def test_service_security_score(destdir, tmp_path):
    service = staged_units(destdir, tmp_path)[0]
    r = analyze("security", "--offline=true", "--no-pager", service)
    assert r.returncode == 0, f"security:\n{r.stdout}\n{r.stderr}"
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", r.stdout)
    assert m, f"no overall exposure in:\n{r.stdout}"
    score = float(m.group(1))
    assert score <= MAX_EXPOSURE, f"exposure {score} > {MAX_EXPOSURE}:\n{r.stdout}"
    # The same gate as systemd-analyze's own threshold (in tenths).
    r = analyze("security", "--offline=true", "--no-pager", "--threshold=15", service)
    assert r.returncode == 0, r.stdout


def test_sysusers_and_tmpfiles_parse(destdir):
    sysusers = staged(destdir, find_dest("/sysusers.d/slad.conf"))
    r = subprocess.run(
        ["systemd-sysusers", "--dry-run", "--root", destdir, sysusers],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert r.returncode == 0, f"systemd-sysusers:\n{r.stdout}\n{r.stderr}"
    assert "slad" in r.stdout + r.stderr


def test_installed_binary_accepts_installed_config(destdir, tmp_path):
    """The installed slad checks the installed slad.conf, its state paths moved into
    tmp_path (as `make run` does): the shipped config names its .ics relative to its own
    folder, so the two install together."""
    conf = staged(destdir, find_dest("/slad/slad.conf"))
    with open(conf) as f:
        text = f.read()
    assert 'ics = "holidays-cn-2026.ics";' in text
    text = text.replace("/var/lib/slad/", f"{tmp_path}/").replace("/run/slad/", f"{tmp_path}/")
    moved = os.path.join(os.path.dirname(conf), "slad-moved.conf")
    with open(moved, "w") as f:
        f.write(text)
    r = subprocess.run(
        [staged(destdir, find_dest("/sbin/slad")), "--check-config", str(moved)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert r.returncode == 0, f"--check-config failed:\n{r.stdout}\n{r.stderr}"
    assert "critical-city" in r.stdout


def test_service_resource_limits(destdir):
    """The unit's limits cover what the shipped config allows (doc/RELIABILITY.md has the
    measurements): descriptors for max_connections on both listeners plus slad's reserve
    (without setrlimit, which the system-call filter forbids), memory above the worst case
    of held max_body requests, and a task cap."""
    with open(staged(destdir, find_dest("/systemd/system/slad.service"))) as f:
        unit = f.read()
    with open(staged(destdir, find_dest("/slad/slad.conf"))) as f:
        conf = f.read()
    values = dict(re.findall(r"^(LimitNOFILE|MemoryMax|MemoryHigh|TasksMax)=(\S+)$", unit, re.M))
    max_conn = int(re.search(r"max_connections\s*=\s*(\d+);", conf).group(1))
    nofile = int(values["LimitNOFILE"])
    assert nofile >= 2 * max_conn + 64 + 3 * 64, values
    mib = {"M": 1, "G": 1024}
    memory_max = int(values["MemoryMax"][:-1]) * mib[values["MemoryMax"][-1]]
    memory_high = int(values["MemoryHigh"][:-1]) * mib[values["MemoryHigh"][-1]]
    assert memory_high < memory_max
    # 2 listeners x max_connections x (max_body + the connection's pool) + 1M tickets.
    assert memory_max >= 2 * max_conn * (1 + 24 / 1024) + 49, values
    assert 16 <= int(values["TasksMax"]) <= 1024, values
