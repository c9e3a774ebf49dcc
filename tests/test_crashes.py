"""Builds killed at every step of publishing and of writing the cache, a full disk, and concurrent
builds never cost data: the published files are always exactly the previous build or the new one.

Each kill lands at a named checkpoint (etl/checkpoints.py), so what is tested does not depend on how
fast the machine is; the second build of the concurrency test runs while the first is stopped at one.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import JURISDICTION, REPO, run, write

from etl.checkpoints import CHECKPOINTS, VARIABLE
from etl.project import STAGING, Project
from etl.publish import recover

ETL = [sys.executable, "-m", "etl"]


def published(root: Path) -> dict[str, bytes]:
    files = sorted((root / "datasets").iterdir()) if (root / "datasets").exists() else []
    package = root / "datapackage.json"
    return {p.name: p.read_bytes() for p in files + ([package] if package.exists() else [])}


def hashes_match(root: Path) -> bool:
    package = json.loads((root / "datapackage.json").read_text())
    return all(
        "sha256:" + hashlib.sha256((root / r["path"]).read_bytes()).hexdigest() == r["hash"] for r in package["resources"]
    )


def edit(root: Path) -> None:
    """Version B: a third of the jurisdiction files changed."""
    for path in sorted((root / "raw/jurisdictions").rglob("*.yaml"))[::3]:
        path.write_text(path.read_text().replace("Synthetic Actor", "Synthetic Official"))


def start_build(root: Path, checkpoint: str) -> subprocess.Popen:
    environment = {**os.environ, VARIABLE: checkpoint}
    return subprocess.Popen([*ETL, "--root", str(root), "build"], cwd=REPO, env=environment,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.fixture(scope="module")
def versions(tmp_path_factory):
    """A synthetic project published as version A, and the bytes a build of version B publishes."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from generate import generate

    base = tmp_path_factory.mktemp("crash")
    old = base / "old"
    generate(old, actions=120)
    assert run(old, "build").exit_code == 0
    new = base / "new"
    shutil.copytree(old, new)
    edit(new)
    assert run(new, "build").exit_code == 0
    return old, published(old), published(new)


@pytest.mark.parametrize("checkpoint", CHECKPOINTS)
def test_a_build_killed_at_each_step_leaves_the_old_or_the_new_outputs(checkpoint, versions, tmp_path):
    old_root, old, new = versions
    root = tmp_path / "project"
    shutil.copytree(old_root, root)
    edit(root)
    process = start_build(root, f"{checkpoint}:kill")
    process.wait()
    assert process.returncode == -signal.SIGKILL, f"the build never reached {checkpoint}"
    if not (root / STAGING / "COMPLETE").exists():
        assert published(root) in (old, new), "a mix of old and new outputs"
    recover(Project(root))  # what the next etl command does first
    assert published(root) in (old, new), "a mix of old and new outputs after recovery"
    assert hashes_match(root)
    assert not (root / STAGING).exists()
    # the kill may have landed while the cache was written: the next build still publishes B exactly
    assert run(root, "build").exit_code == 0
    assert published(root) == new


def test_a_full_disk_is_a_clear_error_and_loses_nothing(project, monkeypatch):
    import etl.publish

    assert run(project, "build").exit_code == 0
    before = published(project)
    write(project / "raw/jurisdictions/ca/contra-costa-county.yaml", JURISDICTION.replace("Sheriff Example", "Sheriff Other"))
    calls = []

    def disk_full(path, blob, sync=False):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, blob, sync=sync)

    real = etl.publish.write_atomically
    monkeypatch.setattr(etl.publish, "write_atomically", disk_full)
    result = run(project, "build")
    assert result.exit_code == 1
    assert "cannot write the outputs (No space left on device:" in result.output and "the published files are unchanged" in result.output
    assert "Traceback" not in result.output
    assert published(project) == before
    assert not (project / STAGING).exists()


def test_two_builds_at_once_the_second_refuses(versions, tmp_path):
    old_root, _, new = versions
    root = tmp_path / "project"
    shutil.copytree(old_root, root)
    edit(root)
    first = start_build(root, "publish.staged:stop")
    _, status = os.waitpid(first.pid, os.WUNTRACED)  # returns once the first build holds the lock, stopped
    assert os.WIFSTOPPED(status), "the first build never reached publish.staged"
    second = subprocess.run([*ETL, "--root", str(root), "build"], cwd=REPO, capture_output=True, text=True)
    os.kill(first.pid, signal.SIGCONT)
    assert first.wait() == 0
    assert second.returncode == 1 and "another etl command is changing this project" in second.stderr
    assert published(root) == new and hashes_match(root)
