"""Object-store settings that travel to workers: the driver's AWS/GCS environment written out as storage
options (explicit options win), `--storage-option KEY=VALUE` parsing, and a workspace on a moto S3 server
reached with environment settings only (an http endpoint, no AWS_ALLOW_HTTP) or refused before rendering."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from synth import api
from synth.errors import SynthError
from synth.store.object_store import options_from_environment, parse_storage_options

ROOT = Path(__file__).resolve().parents[2]
AWS = {"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET", "AWS_SESSION_TOKEN": "TOK",
       "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_REGION": "eu-north-1"}


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    import os
    for key in list(os.environ):
        if key.startswith("AWS_") or key == "GOOGLE_APPLICATION_CREDENTIALS":
            monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.aws files
    return monkeypatch


def test_s3_settings_come_from_the_environment_and_explicit_ones_win(clean_env):
    for k, v in AWS.items():
        clean_env.setenv(k, v)
    got = options_from_environment("s3://b/ws")
    assert got == {"key": "AKID", "secret": "SECRET", "token": "TOK",
                   "client_kwargs": {"endpoint_url": "http://127.0.0.1:9", "region_name": "eu-north-1"}}
    mine = {"key": "K2", "secret": "S2", "client_kwargs": {"endpoint_url": "https://minio:9000"}}
    got = options_from_environment("s3://b/ws", mine)
    assert got["key"] == "K2" and got["client_kwargs"] == {"endpoint_url": "https://minio:9000",
                                                           "region_name": "eu-north-1"}
    assert mine == {"key": "K2", "secret": "S2", "client_kwargs": {"endpoint_url": "https://minio:9000"}}  # not changed
    assert options_from_environment("/data/ws", {"x": 1}) == {"x": 1}  # local folders: as given
    assert options_from_environment("memory://ws") == {}


def test_an_aws_profile_is_read_on_the_driver(clean_env, tmp_path):
    (tmp_path / "creds").write_text("[team]\naws_access_key_id = PK\naws_secret_access_key = PS\n")
    clean_env.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "creds"))
    clean_env.setenv("AWS_PROFILE", "team")
    assert options_from_environment("s3://b/ws") == {"key": "PK", "secret": "PS"}
    clean_env.setenv("AWS_PROFILE", "nobody")
    with pytest.raises(SynthError, match="nobody"):
        options_from_environment("s3://b/ws")


def test_gcs_service_account_travels_by_content(clean_env, tmp_path):
    account = {"type": "service_account", "client_email": "x@y.iam.gserviceaccount.com"}
    (tmp_path / "sa.json").write_text(json.dumps(account))
    clean_env.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "sa.json"))
    assert options_from_environment("gs://bucket/ws") == {"token": account}
    (tmp_path / "sa.json").write_text("not json")
    with pytest.raises(SynthError, match="GOOGLE_APPLICATION_CREDENTIALS"):
        options_from_environment("gs://bucket/ws")


def test_storage_option_pairs():
    assert parse_storage_options(["anon=false", "client_kwargs.endpoint_url=http://h:9000", "max_concurrency=8"]) == \
        {"anon": False, "client_kwargs": {"endpoint_url": "http://h:9000"}, "max_concurrency": 8}
    for bad in (["noequals"], ["a..b=1"], ["x=1", "x.y=2"], ["k=" + "v" * 5000], [f"k{i}=1" for i in range(65)]):
        with pytest.raises(SynthError):
            parse_storage_options(bad)


@pytest.fixture
def moto_endpoint(moto_s3):
    return moto_s3["endpoint"]


def _env(endpoint: str) -> dict[str, str]:
    import os
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {**env, "AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "t", "AWS_ENDPOINT_URL": endpoint,
            "AWS_REGION": "us-east-1", "PYTHONPATH": str(ROOT)}


def test_http_endpoint_from_the_environment_only(moto_endpoint, tmp_path):
    recipe = str(ROOT / "recipes" / "shapes.yaml")
    res = subprocess.run([sys.executable, "-m", "synth.cli", "generate", recipe, "-n", "6", "-j", "1", "--json",
                          "-w", "s3://synth-test/ws"], env=_env(moto_endpoint), capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    local = api.generate(recipe, str(tmp_path / "local"), count=6, workers=1)
    assert json.loads(res.stdout)["fingerprint"] == local.fingerprint


def test_a_refusing_store_fails_before_rendering(moto_endpoint):
    recipe = str(ROOT / "recipes" / "shapes.yaml")
    env = {**_env(moto_endpoint), "AWS_SECRET_ACCESS_KEY": ""}  # no usable credentials, and a bucket that is not there
    for url in ("s3://missing-bucket/ws",):
        res = subprocess.run([sys.executable, "-m", "synth.cli", "generate", recipe, "-n", "6", "-j", "1", "-q",
                              "-w", url], env=env, capture_output=True, text=True, timeout=300)
        assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr[-3000:]
        assert res.stderr.startswith("error: --workspace:") and "missing-bucket" in res.stderr
