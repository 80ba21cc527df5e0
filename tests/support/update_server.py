"""Test helpers: a release with a real signed wheel served by a local HTTP server.

Shared by the unit tests and the end-to-end tests that grew out of test_updates_download.py,
so both build the same rig the same way.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from voxtrald.config import UpdatesConfig
from voxtrald.events import EventLog
from voxtrald.updates.checker import UpdateChecker
from voxtrald.updates.minisign import SecretKey, default_trusted_comment

REPO = "owner/voxtral"


LATEST = f"/repos/{REPO}/releases/latest"


WHEEL = "voxtral-1.1.0-py3-none-any.whl"


def make_wheel(version: str, padding: int = 2000) -> bytes:
    """A small real wheel (a zip with METADATA), enough for the staging checks."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr(f"voxtral-{version}.dist-info/METADATA",
                    f"Metadata-Version: 2.1\nName: voxtral\nVersion: {version}\n\n")
        zf.writestr("voxtrald/__init__.py", "# " + "x" * padding + "\n")
    return out.getvalue()


PAYLOAD = make_wheel("1.1.0")


PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()


KEY = SecretKey.generate()


def asset(name: str, url: str, size: int | None, digest: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"name": name, "browser_download_url": url, "size": size}
    if digest is not None:
        data["digest"] = digest
    return data


def release(assets: list[dict[str, Any]], tag: str = "v1.1.0") -> dict[str, Any]:
    return {"tag_name": tag, "name": f"Voxtral {tag}", "draft": False, "prerelease": False,
            "html_url": f"https://github.com/{REPO}/releases/tag/{tag}", "assets": assets}


class Harness:
    def __init__(self, server: HTTPServer, tmp_path: Path) -> None:
        self.server = server
        self.state_dir = tmp_path / "state"
        self.updates = self.state_dir / "updates"

    def checker(self, current: str = "1.0.0", verify: bool | str = True,
                **cfg: Any) -> UpdateChecker:
        cfg.setdefault("public_keys", [KEY.public.encode()])
        conf = UpdatesConfig(repo=REPO, api_url=self.server.url_for("/").rstrip("/"), **cfg)
        return UpdateChecker(conf, self.state_dir, EventLog(), current, initial_delay=0,
                             timeout=(2.0, 2.0), verify=verify)

    def url(self, path: str) -> str:
        return self.server.url_for(path)

    def publish(self, assets: list[dict[str, Any]], tag: str = "v1.1.0", *,
                signed: bool = True, listed: dict[str, str] | None = None,
                key: SecretKey = KEY, comment: str | None = None) -> None:
        """The release; signed: with SHA256SUMS (listing `listed`) and its minisig by `key`."""
        if signed:
            listed = {WHEEL: PAYLOAD_SHA} if listed is None else listed
            sums = "".join(f"{digest}  {name}\n" for name, digest in listed.items()).encode()
            sig = key.sign(sums, comment or default_trusted_comment("SHA256SUMS")).encode()
            self.host("/dl/SHA256SUMS", sums)
            self.host("/dl/SHA256SUMS.minisig", sig)
            assets = [*assets, asset("SHA256SUMS", self.url("/dl/SHA256SUMS"), len(sums)),
                      asset("SHA256SUMS.minisig", self.url("/dl/SHA256SUMS.minisig"), len(sig))]
        self.server.expect_request(LATEST).respond_with_json(release(assets, tag))

    def host(self, path: str, body: bytes = PAYLOAD) -> None:
        self.server.expect_request(path).respond_with_data(
            body, content_type="application/octet-stream")

    def nothing_staged(self) -> bool:
        return not self.updates.exists() or not any(self.updates.iterdir())

    def downloads(self) -> list[str]:
        """The wheel downloads (the small signed manifest is fetched first, always)."""
        return [r.path for r, _ in self.server.log
                if not r.path.startswith("/repos/") and "SHA256SUMS" not in r.path]


@pytest.fixture
def h(httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Harness:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    return Harness(httpserver, tmp_path)
