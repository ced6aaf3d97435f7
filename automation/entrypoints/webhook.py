"""The GitHub App webhook server; it lives in automation.app (intake, queue, processor).

Kept so that `automation.entrypoints.webhook` imports go on working.
"""

from __future__ import annotations

from automation.app.config import MAX_BODY_BYTES, AppConfig
from automation.app.intake import create_app, server_config, sign, verify_signature
from automation.app.logs import JsonFormatter, configure_json_logging
from automation.app.processor import (
    InstallationClients,
    PolicyCache,
    actions_view,
    engine_processor,
    own_bot_login,
    policy_reader,
)
from automation.app.queue import Delivery, DeliveryQueue
from automation.app.service import WebhookService, build_service
from automation.events import Event

__all__ = [
    "MAX_BODY_BYTES",
    "AppConfig",
    "Delivery",
    "DeliveryQueue",
    "Event",
    "InstallationClients",
    "JsonFormatter",
    "PolicyCache",
    "WebhookService",
    "actions_view",
    "build_service",
    "configure_json_logging",
    "create_app",
    "engine_processor",
    "own_bot_login",
    "policy_reader",
    "server_config",
    "sign",
    "verify_signature",
]
