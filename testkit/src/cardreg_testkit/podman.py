"""Rootful podman on an image store of a test's own, and everything removed afterwards.

The settings that make podman work on these machines (FIELD-NOTES, "Booting compose without
Docker"): runc (crun fails on this hybrid cgroup layout) with ulimits it can set, cgroupfs
(no systemd), a file events log, and the host's network for every container (no bridge
network: one would leave an interface and iptables chains behind). Nothing is shared with
another podman on the machine: besides the image store, the per-boot state (`tmp_dir`, by
default `/run/libpod`, which `podman system reset` empties) and the locks (files there, not the
machine's one shared-memory segment) are the test's own, so two runs at once do not break each
other. Containers escape the test's cgroup (conmon is reparented to PID 1), so `teardown`
removes them explicitly (and, should podman fail at that, kills what still runs from this
store through runc), then the store, then the empty cgroups podman made.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
netns = "host"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
lock_type = "file"
tmp_dir = "{tmp}"
"""


class PodmanStore:
    """`podman` with its configuration and image store under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "store").mkdir(parents=True)
        (root / "run").mkdir()
        (root / "tmp").mkdir()
        (root / "containers.conf").write_text(CONTAINERS_CONF.format(tmp=root / "tmp"))
        (root / "storage.conf").write_text(
            f'[storage]\ndriver = "overlay"\ngraphroot = "{root / "store"}"\n'
            f'runroot = "{root / "run"}"\n'
        )
        self.env = {
            **os.environ,
            "CONTAINERS_CONF": str(root / "containers.conf"),
            "CONTAINERS_STORAGE_CONF": str(root / "storage.conf"),
        }

    def run(
        self, *args: str, timeout: float = 120, check: bool = True, **kw
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            ["podman", *args],
            env={**self.env, **kw.pop("env", {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            **kw,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"podman {args[0]} failed:\n{done.stdout}\n{done.stderr}")
        return done

    def left_over(self) -> list[str]:
        """The containers the store still holds, running or not."""
        return self.run("ps", "-aq", check=False).stdout.split()

    def teardown(self) -> None:
        """Everything this store holds, then the store; cgroups podman left behind."""
        self.run("rm", "--all", "--force", "--time", "10", check=False, timeout=120)
        self.run("volume", "prune", "--force", check=False)
        self.run("system", "reset", "--force", check=False, timeout=120)
        self._kill_strays()
        subprocess.run(["umount", "-R", str(self.root / "store")], capture_output=True, check=False)
        shutil.rmtree(self.root, ignore_errors=True)
        remove_empty_cgroups()

    def _kill_strays(self) -> None:
        """Containers of this store that still run after podman's own removal failed: each
        conmon names its container (`-c ID`) and this store's paths."""
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                args = cmdline.read_bytes().split(b"\0")
            except OSError:
                continue
            if not args or not args[0].endswith(b"conmon") or b"-c" not in args:
                continue
            if not any(str(self.root).encode() in arg for arg in args):
                continue
            container = args[args.index(b"-c") + 1].decode()
            for step in (["kill", container, "KILL"], ["delete", "--force", container]):
                subprocess.run(["runc", *step], capture_output=True, check=False, timeout=30)


def remove_empty_cgroups() -> None:
    """podman's `libpod_parent` cgroups, once empty (a busy one, another run's, stays)."""
    for parent in Path("/sys/fs/cgroup").glob("**/libpod_parent"):
        for folder in sorted(parent.glob("**/"), key=lambda p: len(p.parts), reverse=True):
            try:
                folder.rmdir()
            except OSError:
                pass
