"""Cut a release: check VERSION, test, build, checksum, and say what to publish.

The update checker of every installed copy trusts what this produces: it
looks for the asset `voxtral-X.Y.Z-py3-none-any.whl` on the GitHub release
tagged `vX.Y.Z` and verifies it against `SHA256SUMS`, which must carry a
minisign signature (`SHA256SUMS.minisig`, `--sign-key FILE`) by a key the
install trusts. `minisign -Vm SHA256SUMS -P KEY` checks it by hand. So the script refuses
anything that would break that chain (a VERSION that is not MAJOR.MINOR.PATCH
or not newer than the last tag, a dirty tree, a wheel whose name or metadata
disagrees with VERSION) instead of leaving it to be noticed by users.

It does not tag or upload: publishing stays a deliberate, visible step, and
the script prints the exact commands for it.

    python packaging/release.py --sign-key KEY [--skip-tests] [--allow-dirty] [--isolated]

An encrypted key's password is asked for on the terminal (or read from
standard input when that is not a terminal), before the slow steps.
"""

from __future__ import annotations

import argparse
import getpass
import importlib
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

DISTRIBUTION = "voxtral"
SEMVER = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")
TAG = re.compile(r"v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")
SUMS = "SHA256SUMS"
SIG = SUMS + ".minisig"


class ReleaseError(Exception):
    """Why this tree cannot be released now; printed as one line."""


def parse_version(text: str) -> tuple[int, int, int]:
    match = SEMVER.fullmatch(text)
    if not match:
        raise ReleaseError(
            f"VERSION is {text!r}, not a semantic version MAJOR.MINOR.PATCH (e.g. 1.2.0)"
        )
    major, minor, patch = (int(g) for g in match.groups())
    return major, minor, patch


def last_tag(tags: list[str]) -> tuple[tuple[int, int, int], str] | None:
    """The highest vX.Y.Z tag: "newer than the last release" means newer than all of them."""
    found = [
        (tuple(int(g) for g in m.groups()), tag)
        for tag in tags
        if (m := TAG.fullmatch(tag.strip()))
    ]
    return max(found) if found else None  # type: ignore[return-value]


def _git(root: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=True
        )
    except FileNotFoundError as exc:
        raise ReleaseError("git not found on PATH") from exc
    except subprocess.CalledProcessError as exc:
        raise ReleaseError(f"git {' '.join(args)} failed: {exc.stderr.strip()}") from exc
    return done.stdout


def check_version(root: Path) -> str:
    version_file = root / "VERSION"
    try:
        version = version_file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ReleaseError(f"cannot read {version_file}: {exc.strerror}") from exc
    current = parse_version(version)
    previous = last_tag(_git(root, "tag", "--list", "v*").splitlines())
    if previous and current <= previous[0]:
        raise ReleaseError(
            f"VERSION {version} is not newer than the last release tag {previous[1]}; "
            "raise it in the VERSION file (semantic versioning: PATCH for fixes, MINOR for "
            "features, MAJOR for breaking changes)"
        )
    return version


def check_clean(root: Path) -> None:
    """Refuse a tree that differs from its commit, untracked files included.

    The build packs whatever .py files sit in the package folders, tracked or
    not, so a stray untracked module would ship in the wheel without being in
    the tagged commit. Ignored files (.venv, build output) do not count.
    """
    status = _git(root, "status", "--porcelain")
    lines = status.splitlines()
    if lines:
        shown = ", ".join(line[3:] for line in lines[:5]) + (", ..." if len(lines) > 5 else "")
        raise ReleaseError(
            f"the working tree has uncommitted changes or untracked files ({shown}); commit "
            "or remove them first (the tag must name exactly what was built), or pass "
            "--allow-dirty for a trial build"
        )


def run_tests(root: Path) -> None:
    print("running the tests ...", flush=True)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q"], cwd=root)
    if done.returncode != 0:
        raise ReleaseError("the tests failed; no release")


def build(root: Path, outdir: Path, isolated: bool) -> None:
    """Build the sdist, then the wheel from it (`python -m build` with no --sdist/--wheel).

    Building the wheel from the sdist proves the sdist is complete: a file the
    sdist leaves out is missing from the wheel too, instead of only from the
    sdist. Without isolation the build uses this environment's setuptools:
    fast and offline.
    """
    cmd = [sys.executable, "-m", "build", "--outdir", str(outdir)]
    if not isolated:
        cmd.append("--no-isolation")
    print(f"building: {' '.join(cmd)}", flush=True)
    try:
        done = subprocess.run([*cmd, str(root)], cwd=root, capture_output=True, text=True)
    except OSError as exc:
        raise ReleaseError(f"cannot run the build: {exc}") from exc
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        hint = ""
        if "No module named build" in tail:
            hint = " (install it: python -m pip install build)"
        elif "Missing dependencies" in tail:
            hint = " (install the build requirements here, or pass --isolated)"
        raise ReleaseError(f"the build failed{hint}:\n{tail}")


def check_artifacts(outdir: Path, version: str) -> list[Path]:
    wheel = outdir / f"{DISTRIBUTION}-{version}-py3-none-any.whl"
    sdist = outdir / f"{DISTRIBUTION}-{version}.tar.gz"
    for path in (wheel, sdist):
        if not path.is_file():
            built = ", ".join(sorted(p.name for p in outdir.iterdir())) or "nothing"
            raise ReleaseError(f"expected {path.name}, but the build made: {built}")
    with zipfile.ZipFile(wheel) as zf:
        meta = zf.read(f"{DISTRIBUTION}-{version}.dist-info/METADATA").decode("utf-8")
    if f"\nVersion: {version}\n" not in meta:
        raise ReleaseError(f"{wheel.name} metadata does not say Version: {version}")
    return [wheel, sdist]


def write_sums(outdir: Path, files: list[Path]) -> Path:
    """sha256sum's format ("<hex>  <name>"), so `sha256sum -c SHA256SUMS` checks it."""
    hashing, atomic = _project("files.hashing"), _project("files.atomic")
    text = "".join(f"{hashing.sha256_file(p)}  {p.name}\n" for p in sorted(files))
    target = outdir / SUMS
    atomic.write_atomic(target, text, mode=atomic.USER_FILE_MODE)
    return target


def _project(name: str) -> Any:
    """A module of the package (hashing, the atomic writer, the signing format live there once)."""
    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    try:
        return importlib.import_module(f"voxtrald.{name}")
    except ImportError as exc:
        raise ReleaseError(f"cannot load voxtrald.{name} ({exc}); run this with the "
                           "project's environment (make release)") from exc


def _minisign() -> Any:
    return _project("updates.minisign")


def load_key(path: Path) -> Any:
    """The secret key to sign with, asking for its password if it is encrypted."""
    minisign = _minisign()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReleaseError(f"cannot read the signing key {path}: {exc}") from exc
    try:
        try:
            return minisign.SecretKey.parse(text)
        except minisign.SignatureError as exc:
            if "password" not in str(exc):
                raise
        if sys.stdin.isatty():
            password = getpass.getpass(f"Password for {path}: ")
        else:
            password = sys.stdin.readline().rstrip("\r\n")
        return minisign.SecretKey.parse(text, password.encode("utf-8"))
    except minisign.SignatureError as exc:
        raise ReleaseError(f"cannot use the signing key {path}: {exc}") from exc


def sign_sums(sums: Path, key: Any, version: str) -> Path:
    """SHA256SUMS.minisig beside it: minisign's format, the version in the trusted comment."""
    minisign = _minisign()
    comment = minisign.default_trusted_comment(sums.name, version=version)
    text = key.sign(sums.read_bytes(), comment,
                    untrusted_comment=f"signature from minisign secret key {key.public.id}")
    target = sums.with_name(SIG)
    atomic = _project("files.atomic")
    atomic.write_atomic(target, text, mode=atomic.USER_FILE_MODE)
    return target


def publish_steps(version: str, files: list[Path], sums: Path, root: Path) -> str:
    def rel(p: Path) -> str:
        return os.path.relpath(p, root)

    signature = sums.with_name(SIG)
    extra = [signature] if signature.is_file() else []
    assets = " ".join(rel(p) for p in [*files, sums, *extra])
    tag = f"v{version}"
    return f"""\
Release {version} is built and checksummed:
{"".join(f"  {rel(p)}{os.linesep}" for p in [*files, sums, *extra])}
To publish it:
  1. Tag the commit that was built and push the tag:
       git tag {tag} && git push origin {tag}
  2. Create the GitHub release for {tag} with these assets (names unchanged):
       gh release create {tag} {assets} --title "Voxtral {version}" --generate-notes
     or on GitHub: Releases > Draft a new release > choose tag {tag} > attach
     {", ".join(p.name for p in [*files, sums, *extra])} > Publish release.
  3. Check: the update checker of an older install should now report {version}
     (voxtrald check-update).
"""


def release(root: Path, skip_tests: bool, allow_dirty: bool, isolated: bool,
            sign_key: Path | None = None) -> int:
    key = load_key(sign_key) if sign_key is not None else None
    version = check_version(root)
    if not allow_dirty:
        check_clean(root)
    print(f"releasing {DISTRIBUTION} {version}", flush=True)
    if not skip_tests:
        run_tests(root)
    outdir = root / "dist"
    outdir.mkdir(exist_ok=True)
    # Only this release's files go next to SHA256SUMS, so an old wheel is not
    # uploaded (or checksummed) by mistake.
    for old in outdir.glob(f"{DISTRIBUTION}-*"):
        old.unlink()
    (outdir / SUMS).unlink(missing_ok=True)
    (outdir / SIG).unlink(missing_ok=True)
    build(root, outdir, isolated)
    files = check_artifacts(outdir, version)
    sums = write_sums(outdir, files)
    if key is not None:
        sign_sums(sums, key, version)
    else:
        print("warning: not signed (no --sign-key): installs refuse an unsigned release",
              file=sys.stderr)
    print(publish_steps(version, files, sums, root), end="")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build a Voxtral release and print how to "
                                                 "publish it.")
    parser.add_argument("--skip-tests", action="store_true", help="do not run the test suite")
    parser.add_argument("--allow-dirty", action="store_true",
                        help="build even with uncommitted changes (trial builds)")
    parser.add_argument("--isolated", action="store_true",
                        help="build in a fresh isolated environment (downloads setuptools)")
    parser.add_argument("--sign-key", type=Path, metavar="FILE",
                        help="minisign secret key that signs SHA256SUMS (SHA256SUMS.minisig)")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="the repository to release (default: the one holding this script)")
    args = parser.parse_args(argv)
    try:
        return release(args.root.resolve(), args.skip_tests, args.allow_dirty, args.isolated,
                       args.sign_key)
    except ReleaseError as exc:
        print(f"release: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
