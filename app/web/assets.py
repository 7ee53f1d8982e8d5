"""Built front-end assets: `asset_url('designer.js')` in a template is the URL of the file
assets/build.mjs wrote for it, whose name carries a hash of its content.

The build writes app/static/build/manifest.json, a JSON object of logical name -> path under the
static folder ({"designer.js": "build/designer-5KQ3X2ZB.js", ...}). It is read once per process;
in debug mode again whenever the file changes, so a rebuild shows without a restart. Since a file's
name changes with its content, the browser may keep everything under build/ for a year."""

import json
from pathlib import Path

from flask import Flask, current_app, request, url_for

BUILD_DIR = "build"
MANIFEST = f"{BUILD_DIR}/manifest.json"  # under the static folder
ONE_YEAR = 365 * 24 * 3600


class AssetError(RuntimeError):
    """The front-end build is missing or out of date."""


def manifest_path(app: Flask) -> Path:
    """Where the manifest is: ASSETS_MANIFEST if configured, else under the static folder."""
    configured = app.config.get("ASSETS_MANIFEST")
    if configured:
        return Path(configured)
    if app.static_folder is None:
        raise AssetError("the app has no static folder to hold the front-end build; set ASSETS_MANIFEST")
    return Path(app.static_folder) / MANIFEST


def _load(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AssetError(
            f"{path} is missing: the front-end assets have not been built. "
            "Run `make setup` (it installs the npm packages and runs assets/build.mjs)."
        ) from None
    try:
        entries = json.loads(text)
    except ValueError as exc:
        raise AssetError(
            f"{path} is not valid JSON ({exc}): run `make setup` to rebuild the front-end assets."
        ) from None
    if not isinstance(entries, dict):
        raise AssetError(f"{path} is not a JSON object: run `make setup` to rebuild the front-end assets.")
    return entries


def manifest(app: Flask | None = None) -> dict[str, str]:
    """Logical name -> path under the static folder; cached, re-read in debug when the file changed."""
    app = app or current_app  # the proxy serves: only the app's config and extensions are used
    path = manifest_path(app)
    cached = app.extensions.get("assets_manifest")
    if cached is not None and not app.debug:
        return cached[1]
    try:
        stamp = path.stat().st_mtime_ns
    except FileNotFoundError:
        stamp = None
    if cached is None or cached[0] != stamp:
        cached = (stamp, _load(path))
        app.extensions["assets_manifest"] = cached
    return cached[1]


def asset_url(name: str) -> str:
    """The URL of a built asset by its logical name ('app.css', 'designer.js', 'vendor/echarts.min.js')."""
    entries = manifest()
    try:
        return url_for("static", filename=entries[name])
    except KeyError:
        raise AssetError(
            f"{name!r} is not in {manifest_path(current_app)}: run `make setup` to rebuild the front-end "
            "assets (assets/build.mjs builds assets/src/*.entry.js, assets/css/*.css and its VENDOR list)."
        ) from None


def _cache_built_files(response):
    # Hashed names never change content: let browsers and proxies keep them (not the manifest itself).
    if request.endpoint == "static" and response.status_code == 200:
        filename = (request.view_args or {}).get("filename", "")
        if filename.startswith(f"{BUILD_DIR}/") and filename != MANIFEST:
            response.cache_control.public = True
            response.cache_control.max_age = ONE_YEAR
            response.cache_control.immutable = True
            response.cache_control.no_cache = None
    return response


def register(app: Flask) -> None:
    app.add_template_global(asset_url, "asset_url")
    app.after_request(_cache_built_files)
