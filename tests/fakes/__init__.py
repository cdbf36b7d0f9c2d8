"""Local stand-ins for the online speech services, served on 127.0.0.1 only."""
from __future__ import annotations

import os

#: proxy settings that would send requests for the local fakes elsewhere (gTTS passes the
#: environment's proxies without honouring no_proxy; aiohttp trusts the environment)
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


def clear_proxies(monkeypatch) -> None:
    """Drop proxy settings for one test, so requests reach the local fakes directly."""
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)


def without_proxies() -> dict[str, str]:
    """The environment minus proxy settings (for ``mock.patch.dict(os.environ, ..., clear=True)``)."""
    return {k: v for k, v in os.environ.items() if k not in PROXY_VARS}
