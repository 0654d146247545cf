"""Alerts to a chat webhook (Slack or Mattermost incoming webhook: JSON `{"text": ...}`).

An alert never carries a secret or a download link: URLs are removed from its text, and so is
the value of every secret setting. Posting never raises: a webhook that fails is a warning in
the log, never a failed archival.
"""

import logging
import os
import re

import requests
from dagster import ConfigurableResource
from pydantic import Field

from archiver_dagster.settings import SETTINGS

MAX_TEXT_CHARS = 3000
URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://\S+")


def redacted(text: str) -> str:
    """`text` without URLs (download links, endpoints) and without any secret setting's value."""
    text = URL.sub("<URL removed>", text)
    for setting in SETTINGS:
        value = os.environ.get(setting.name, "") if setting.secret else ""
        if len(value) >= 4:
            text = text.replace(value, "<secret removed>")
    return text[:MAX_TEXT_CHARS]


class AlertResource(ConfigurableResource):
    """Where alerts go: `ARCHIVER_ALERT_WEBHOOK_URL`, or nowhere when it is empty."""

    webhook_url: str = Field(
        default="",
        description="Incoming-webhook URL (ARCHIVER_ALERT_WEBHOOK_URL); empty: no alerts. A "
        "secret: it is never logged.",
    )
    timeout_s: float = Field(default=10.0, description="Timeout of one webhook request.")

    @property
    def enabled(self) -> bool:
        """Whether a webhook is configured."""
        return bool(self.webhook_url)

    def post(self, text: str, log: logging.Logger | logging.LoggerAdapter) -> bool:
        """Posts `text` (redacted); True if the webhook took it. Logs a warning otherwise."""
        if not self.enabled:
            return False
        try:
            response = requests.post(
                self.webhook_url, json={"text": redacted(text)}, timeout=self.timeout_s
            )
        except requests.RequestException as error:
            # The exception's text holds the URL, whose path is the webhook's secret token.
            log.warning(f"alert not delivered: webhook unreachable ({type(error).__name__})")
            return False
        if response.status_code >= 300:
            log.warning(f"alert not delivered: webhook answered HTTP {response.status_code}")
            return False
        return True
