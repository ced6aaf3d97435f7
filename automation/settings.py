"""Runtime settings, built once from the environment and command-line flags."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_API_URL = "https://api.github.com"


class SettingsError(Exception):
    """A setting is missing or malformed."""


@dataclass(frozen=True)
class Settings:
    """What a run needs to reach GitHub. The token never appears in repr or logs."""

    repo: str | None = None
    api_url: str = DEFAULT_API_URL
    token: str | None = field(default=None, repr=False)
    app_id: str | None = None
    app_private_key: str | None = field(default=None, repr=False)
    installation_id: int | None = None
    event_name: str | None = None
    event_path: str | None = None
    step_summary: str | None = None
    policies_dir: str = "policies"
    dry_run: bool = False
    max_writes: int | None = None
    pacing: bool = True

    @property
    def owner_and_name(self) -> tuple[str, str]:
        """Split OWNER/NAME, or raise SettingsError."""
        if not self.repo or self.repo.count("/") != 1 or not all(self.repo.split("/")):
            raise SettingsError(
                "repository must be OWNER/NAME (set --repo or GITHUB_REPOSITORY), "
                f"got {self.repo!r}"
            )
        owner, name = self.repo.split("/")
        return owner, name

    def require_credentials(self) -> None:
        """Raise SettingsError unless a token or a GitHub App is configured."""
        if self.token:
            return
        if self.app_id and self.app_private_key and self.installation_id:
            return
        raise SettingsError(
            "no GitHub credentials: set GITHUB_TOKEN (or GH_TOKEN), or "
            "DATAFACE_OPS_APP_ID, DATAFACE_OPS_APP_PRIVATE_KEY and DATAFACE_OPS_INSTALLATION_ID"
        )


def _int_or_none(env: Mapping[str, str], name: str) -> int | None:
    value = env.get(name, "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {value!r}") from None


def _flag(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "").strip().lower() in ("1", "true", "yes")


def settings_from_env(env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Build settings from GitHub Actions' variables, then apply non-None overrides."""
    env = os.environ if env is None else env
    api_url = (env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")
    values: dict[str, object] = {
        "repo": env.get("GITHUB_REPOSITORY") or None,
        "api_url": api_url,
        "token": env.get("GITHUB_TOKEN") or env.get("GH_TOKEN") or None,
        "app_id": env.get("DATAFACE_OPS_APP_ID") or None,
        "app_private_key": env.get("DATAFACE_OPS_APP_PRIVATE_KEY") or None,
        "installation_id": _int_or_none(env, "DATAFACE_OPS_INSTALLATION_ID"),
        "event_name": env.get("GITHUB_EVENT_NAME") or None,
        "event_path": env.get("GITHUB_EVENT_PATH") or None,
        "step_summary": env.get("GITHUB_STEP_SUMMARY") or None,
        "policies_dir": env.get("DATAFACE_OPS_POLICIES") or "policies",
        "dry_run": _flag(env, "DATAFACE_OPS_DRY_RUN"),
        "max_writes": _int_or_none(env, "DATAFACE_OPS_MAX_WRITES"),
        "pacing": not _flag(env, "DATAFACE_OPS_NO_PACING"),
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    budget = values["max_writes"]
    if isinstance(budget, int) and budget < 0:
        # A negative budget would skip every write and still report success.
        raise SettingsError(f"the write budget must be 0 or more, got {budget}")
    api = str(values["api_url"])
    if not api.startswith(("https://", "http://")):
        raise SettingsError(f"API URL must start with https:// (GITHUB_API_URL), got {api!r}")
    values["api_url"] = api.rstrip("/")
    return Settings(**values)  # type: ignore[arg-type]
