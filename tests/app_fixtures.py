"""Fixtures of the webhook app tests: the App's private key, a real Redis/Valkey server, and
both queue backends."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator

import pytest


def pem_private_key() -> str:
    """A fresh 2048-bit RSA key in PEM, the form GitHub hands out for an App."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture(scope="session")
def private_key() -> str:
    """One App key for the session: generating one takes a while."""
    return pem_private_key()


def reachable(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis/Valkey server: $DATAFACE_OPS_TEST_REDIS_URL, the local default, or one
    started here from redis-server or valkey-server. CI (.ci/run) installs and starts one;
    there a missing server fails the run instead of skipping the tests."""
    import shutil
    import subprocess

    for url in (os.environ.get("DATAFACE_OPS_TEST_REDIS_URL"), "redis://127.0.0.1:6379/0"):
        if url and reachable(url):
            yield url
            return
    binary = shutil.which("redis-server") or shutil.which("valkey-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("no Redis or Valkey server: .ci/run installs and starts one")
        pytest.skip("no Redis or Valkey server here (apt-get install redis-server)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10
        while not reachable(url):
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(params=["sqlite", "redis"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test on the embedded default (SQLite), then on a real Redis server."""
    if request.param == "redis":
        monkeypatch.setattr("tests.app_harness.REDIS_URL", request.getfixturevalue("redis_url"))
    else:
        monkeypatch.setattr("tests.app_harness.REDIS_URL", None)
    return str(request.param)
