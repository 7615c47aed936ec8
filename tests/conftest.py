"""Shared fixtures: a fresh workspace folder per test and the repo's recipes folder."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RECIPES = ROOT / "recipes"


@pytest.fixture
def ws_path(tmp_path: Path) -> str:
    return str(tmp_path / "ws")


@pytest.fixture
def write_recipe(tmp_path: Path):
    """Write a recipe text to a file in tmp_path and return its path."""
    def write(text: str, name: str = "recipe.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path
    return write


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def moto_s3():
    """A moto S3 server on 127.0.0.1 with the bucket `synth-test`: {"endpoint", "client", "options"}
    (`options`: s3fs storage options with the server's test credentials)."""
    import boto3
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="test", aws_secret_access_key="test",
                          region_name="us-east-1")
    client.create_bucket(Bucket="synth-test")
    yield {"endpoint": endpoint, "client": client,
           "options": {"key": "test", "secret": "test",
                       "client_kwargs": {"endpoint_url": endpoint, "region_name": "us-east-1"}}}
    import urllib.request
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=30)
    server.stop()  # moto keeps buckets per process, not per server: the reset gives the next test empty ones
