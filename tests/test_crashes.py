"""Builds killed at random moments, a full disk, and concurrent builds never cost data: the published
files are always exactly the previous build or exactly the new one."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from etl.project import Project
from etl.publish import STAGING, recover

from conftest import JURISDICTION, REPO, make_project, run, write

ETL = [sys.executable, "-m", "etl"]
KILLS = 12


def published(root: Path) -> dict[str, bytes]:
    files = sorted((root / "datasets").iterdir()) if (root / "datasets").exists() else []
    package = root / "datapackage.json"
    return {p.name: p.read_bytes() for p in files + ([package] if package.exists() else [])}


def hashes_match(root: Path) -> bool:
    package = json.loads((root / "datapackage.json").read_text())
    return all(
        "sha256:" + hashlib.sha256((root / r["path"]).read_bytes()).hexdigest() == r["hash"] for r in package["resources"]
    )


@pytest.fixture(scope="module")
def versions(tmp_path_factory):
    """A synthetic project published as version A, and the bytes a build of version B publishes."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from generate import generate

    base = tmp_path_factory.mktemp("crash")
    old = base / "old"
    generate(old, actions=1500)
    subprocess.run([*ETL, "--root", str(old), "build"], check=True, capture_output=True, cwd=REPO)
    new = base / "new"
    shutil.copytree(old, new)
    for path in sorted((new / "raw/jurisdictions").rglob("*.yaml"))[::3]:
        path.write_text(path.read_text().replace("Synthetic Actor", "Synthetic Official"))
    started = time.monotonic()
    subprocess.run([*ETL, "--root", str(new), "build"], check=True, capture_output=True, cwd=REPO)
    duration = time.monotonic() - started
    return old, published(old), published(new), duration


def test_a_build_killed_at_random_moments_leaves_the_old_or_the_new_outputs(versions, tmp_path):
    old_root, old, new, duration = versions
    rng = random.Random(20261128)
    outcomes = set()
    for attempt in range(KILLS):
        root = tmp_path / f"attempt-{attempt}"
        shutil.copytree(old_root, root)
        for path in sorted((root / "raw/jurisdictions").rglob("*.yaml"))[::3]:
            path.write_text(path.read_text().replace("Synthetic Actor", "Synthetic Official"))
        process = subprocess.Popen([*ETL, "--root", str(root), "build"], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 1.1) * duration)  # most kills land late, where publishing happens
        process.send_signal(signal.SIGKILL)
        process.wait()
        state = published(root)
        interrupted_commit = (root / STAGING / "COMPLETE").exists()
        if not interrupted_commit:
            assert state in (old, new), f"attempt {attempt}: a mix of old and new outputs"
        recover(Project(root))  # what the next etl command does first
        state = published(root)
        assert state in (old, new), f"attempt {attempt}: a mix of old and new outputs after recovery"
        assert hashes_match(root)
        assert not (root / STAGING).exists()
        outcomes.add("new" if state == new else "old")
        # the kill may have landed while the cache was written: the next build still publishes B exactly
        subprocess.run([*ETL, "--root", str(root), "build"], check=True, capture_output=True, cwd=REPO)
        assert published(root) == new, f"attempt {attempt}: the build after the kill published something else"
    assert outcomes  # kills landed; which outcomes depends on timing


def test_a_full_disk_is_a_clear_error_and_loses_nothing(project, monkeypatch):
    import etl.publish

    assert run(project, "build").exit_code == 0
    before = published(project)
    write(project / "raw/jurisdictions/ca/contra-costa-county.yaml", JURISDICTION.replace("Sheriff Example", "Sheriff Other"))
    calls = []

    def disk_full(path, blob):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, blob)

    real = etl.publish._write_synced
    monkeypatch.setattr(etl.publish, "_write_synced", disk_full)
    result = run(project, "build")
    assert result.exit_code == 1
    assert "cannot write the outputs (No space left on device:" in result.output and "the published files are unchanged" in result.output
    assert "Traceback" not in result.output
    assert published(project) == before
    assert not (project / STAGING).exists()


def test_two_builds_at_once_the_second_refuses(versions, tmp_path):
    old_root = versions[0]
    root = tmp_path / "project"
    shutil.copytree(old_root, root)
    first = subprocess.Popen([*ETL, "--root", str(root), "build"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not (root / STAGING).exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)  # wait until the first build holds the lock and is publishing
    second = subprocess.run([*ETL, "--root", str(root), "build"], cwd=REPO, capture_output=True, text=True)
    first.wait()
    assert first.returncode == 0
    if (root / STAGING).exists() or second.returncode != 0:
        assert second.returncode == 1 and "another etl build is running" in second.stderr
    assert published(root) == versions[1] and hashes_match(root)
