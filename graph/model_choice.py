"""Which chat model, if any, routes messages: chosen from the settings, built, and described.

- GOOGLE_API_KEY or GEMINI_API_KEY -> ChatGoogleGenerativeAI, model `DEFAULT_GEMINI_MODEL` unless
  FINKRAFT_MODEL names one (`gemini-2.0-flash` or `google_genai:gemini-2.0-flash`).
  FINKRAFT_MODEL_BASE_URL points the client elsewhere (a proxy, or a local stub in tests);
  FINKRAFT_MODEL_TIMEOUT is the per-request timeout in seconds.
- FINKRAFT_MODEL=`provider:model` (e.g. `openai:gpt-4o-mini`) -> any LangChain chat model,
  through `langchain.chat_models.init_chat_model` (its integration package must be installed
  and its own key set).
- nothing set -> None: the offline parser routes every message.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from langchain_core.language_models import BaseChatModel

from business_data.settings import Settings

from .llm import LLMRouter

log = logging.getLogger("finkraft.llm")

DEFAULT_GEMINI_MODEL = "gemini-1.5-flash"
GOOGLE_PROVIDER = "google_genai"
DEFAULT_MAX_RETRIES = 2  # google-genai counts attempts: 1 = no retry, 0 = the SDK default (5)


def _split_model(spec: str | None) -> tuple[str | None, str | None]:
    """'google_genai:gemini-2.0-flash' -> ('google_genai', 'gemini-2.0-flash'); 'gemini-x' -> (None, 'gemini-x')."""
    spec = (spec or "").strip()
    if not spec:
        return None, None
    if ":" in spec:
        provider, name = spec.split(":", 1)
        if re.fullmatch(r"[a-z][a-z0-9_\-]*", provider.strip()):
            return provider.strip(), name.strip() or None
    return None, spec


def select_model(settings: Settings) -> dict[str, Any]:
    """What the settings ask for: {"mode", "provider", "model", "reason"} (no side effects)."""
    provider, name = _split_model(settings.model)
    key = settings.google_api_key
    if provider is None and (name or "").lower().startswith("gemini"):
        provider = GOOGLE_PROVIDER
    if provider is None and name is None:
        if key:
            return {
                "mode": "llm",
                "provider": GOOGLE_PROVIDER,
                "model": DEFAULT_GEMINI_MODEL,
                "reason": "GOOGLE_API_KEY",
            }
        return {
            "mode": "offline",
            "provider": None,
            "model": None,
            "reason": "no GOOGLE_API_KEY, GEMINI_API_KEY or FINKRAFT_MODEL set",
        }
    if provider == GOOGLE_PROVIDER:
        if not key:
            return {
                "mode": "offline",
                "provider": None,
                "model": None,
                "reason": f"FINKRAFT_MODEL names a Gemini model ({name}) but no GOOGLE_API_KEY/GEMINI_API_KEY is set",
            }
        return {
            "mode": "llm",
            "provider": GOOGLE_PROVIDER,
            "model": name or DEFAULT_GEMINI_MODEL,
            "reason": "GOOGLE_API_KEY",
        }
    return {"mode": "llm", "provider": provider, "model": name, "reason": "FINKRAFT_MODEL"}


def build_chat_model(
    choice: dict[str, Any], settings: Settings, *, timeout_s: float | None = None, max_retries: int | None = None
) -> BaseChatModel:
    timeout_s = settings.model_timeout_s if timeout_s is None else timeout_s
    retries = DEFAULT_MAX_RETRIES if max_retries is None else max_retries
    if choice["provider"] == GOOGLE_PROVIDER:
        from langchain_google_genai import ChatGoogleGenerativeAI

        kwargs: dict[str, Any] = dict(
            model=choice["model"],
            google_api_key=settings.google_api_key,
            temperature=0,
            timeout=timeout_s,
            max_retries=max(1, retries),
        )
        if settings.model_base_url:
            kwargs["base_url"] = settings.model_base_url
        return ChatGoogleGenerativeAI(**kwargs)
    from langchain.chat_models import init_chat_model

    kwargs = dict(temperature=0, timeout=timeout_s, max_retries=retries)
    if settings.model_base_url:
        kwargs["base_url"] = settings.model_base_url
    spec = f"{choice['provider']}:{choice['model']}" if choice["provider"] else choice["model"]
    try:
        return init_chat_model(spec, **kwargs)
    except (TypeError, ValueError) as e:  # a provider that names timeout/retries differently (or not at all)
        log.info("%s rejected timeout/max_retries (%s); starting it with its own defaults", spec, e)
        fallback: dict[str, Any] = {"base_url": settings.model_base_url} if settings.model_base_url else {}
        return init_chat_model(spec, temperature=0, **fallback)


def make_router(
    settings: Settings | None = None, *, timeout_s: float | None = None, max_retries: int | None = None
) -> LLMRouter | None:
    """The configured router, or None (offline parser). Never raises: a model that can't be
    built (missing package, bad name) is logged and the assistant runs offline."""
    if settings is None:
        from business_data.settings import get_settings

        settings = get_settings()
    choice = select_model(settings)
    if choice["mode"] != "llm":
        return None
    try:
        model = build_chat_model(choice, settings, timeout_s=timeout_s, max_retries=max_retries)
    except Exception as e:  # noqa: BLE001 - configuration problems degrade to offline, loudly
        log.warning(
            "could not start chat model %s:%s (%s); using the offline parser", choice["provider"], choice["model"], e
        )
        return None
    return LLMRouter(
        model, provider=choice["provider"] or getattr(model, "_llm_type", "unknown"), model_name=choice["model"] or ""
    )


def describe(settings: Settings | None = None, router: LLMRouter | None = None) -> dict[str, Any]:
    """For /health/detailed: {"mode": "offline"|"llm", "provider", "model"} (never the key)."""
    if router is not None:
        return router.describe()
    if settings is None:
        from business_data.settings import get_settings

        settings = get_settings()
    choice = select_model(settings)
    if choice["mode"] == "llm" and make_router(settings) is None:
        return {
            "mode": "offline",
            "provider": None,
            "model": None,
            "reason": f"could not start {choice['provider']}:{choice['model']}",
        }
    return choice
