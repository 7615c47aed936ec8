"""Object-store settings that must travel: what the driver's environment says about S3 or GCS, written out as
fsspec storage options so processes that do not share that environment (Ray workers on other nodes) reach
the same bucket with the same credentials; and `--storage-option KEY=VALUE` parsing.

Nothing here is ever written to a workspace, a manifest or a log: the options go to the store clients and
to the workers' task arguments only."""
from __future__ import annotations

import copy
import json
import os
from typing import Any

from synth.errors import SynthError

MAX_OPTIONS = 64  # --storage-option pairs in one command
MAX_OPTION_CHARS = 4096  # one KEY=VALUE


def scheme(root: str) -> str:
    return root.split("://", 1)[0].lower() if "://" in root else "file"


def options_from_environment(root: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """`options` completed from the driver's environment for the root's object store; explicit options win.

    s3:// (s3fs): AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, else the credentials of
    AWS_PROFILE (or the default profile) from the AWS config files; AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL;
    AWS_REGION or AWS_DEFAULT_REGION. gs:// (gcsfs): the service-account file GOOGLE_APPLICATION_CREDENTIALS
    names, passed by content (the path need not exist on the workers). Other schemes: `options` as given."""
    out = copy.deepcopy(dict(options or {}))
    kind = scheme(root)
    env = os.environ
    if kind in ("s3", "s3a"):
        client = out.setdefault("client_kwargs", {})
        if not (out.get("key") or out.get("anon") or out.get("profile")):
            key, secret, token = _aws_credentials()
            if key and secret:
                out["key"], out["secret"] = key, secret
                if token:
                    out["token"] = token
        endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
        if endpoint and not (out.get("endpoint_url") or client.get("endpoint_url")):
            client["endpoint_url"] = endpoint
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
        if region and not (client.get("region_name") or out.get("region")):
            client["region_name"] = region
        if not client:
            out.pop("client_kwargs")
    elif kind in ("gs", "gcs"):
        path = env.get("GOOGLE_APPLICATION_CREDENTIALS")
        if path and "token" not in out and os.path.isfile(path):
            try:
                with open(path) as fh:
                    out["token"] = json.load(fh)
            except (OSError, ValueError):
                raise SynthError(f"GOOGLE_APPLICATION_CREDENTIALS names {path}, which is not a readable JSON "
                                 "service-account file") from None
    return out


def _aws_credentials() -> tuple[str | None, str | None, str | None]:
    env = os.environ
    if env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
        return env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env.get("AWS_SESSION_TOKEN")
    files = [env.get("AWS_SHARED_CREDENTIALS_FILE", os.path.expanduser("~/.aws/credentials")),
             env.get("AWS_CONFIG_FILE", os.path.expanduser("~/.aws/config"))]
    if not (env.get("AWS_PROFILE") or any(os.path.isfile(f) for f in files)):
        return None, None, None  # no profile to read (and no instance-metadata lookup from here)
    try:
        import botocore.session
        creds = botocore.session.Session(profile=env.get("AWS_PROFILE")).get_credentials()
    except Exception as exc:  # botocore's ProfileNotFound and friends
        raise SynthError(f"reading the AWS profile {env.get('AWS_PROFILE') or 'default'} failed: {exc}") from None
    if creds is None:
        return None, None, None
    frozen = creds.get_frozen_credentials()
    return frozen.access_key, frozen.secret_key, frozen.token


def parse_storage_options(pairs: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """`KEY=VALUE` pairs as storage options: a dotted key nests (`client_kwargs.endpoint_url=...`), `true`/
    `false` are booleans, digits an integer, anything else a string."""
    if len(pairs) > MAX_OPTIONS:
        raise SynthError(f"at most {MAX_OPTIONS} --storage-option pairs", field="--storage-option")
    out: dict[str, Any] = {}
    for pair in pairs:
        if len(pair) > MAX_OPTION_CHARS or "=" not in pair:
            raise SynthError(f"'{pair[:60]}' is not KEY=VALUE (at most {MAX_OPTION_CHARS} characters), e.g. "
                             "--storage-option client_kwargs.endpoint_url=http://127.0.0.1:9000",
                             field="--storage-option")
        key, value = pair.split("=", 1)
        parts = key.strip().split(".")
        if not all(p.isidentifier() for p in parts):
            raise SynthError(f"storage option key '{key}' must be names joined by dots", field="--storage-option")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise SynthError(f"storage option '{key}' nests under a value", field="--storage-option")
        node[parts[-1]] = _typed(value)
    return out


def _typed(value: str) -> Any:
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    if value.isdigit():
        return int(value)
    return value
