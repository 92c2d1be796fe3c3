"""Entry point of the tg_bot pex and image: the event worker and Telegram's updates coming in."""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack

import httpx
import uvicorn

from generated.tg_bot.clients import BackendUsersClient
from generated.tg_bot.notifications import register_subscribers
from servicekit.events import DeliveryPolicy, EventBus
from servicekit.metrics import sample_every
from servicekit.observability import observed_process
from servicekit.serving import run_until_signalled, serve
from servicekit.auth.client import ServiceTokenAuth
from servicekit.settings import exit_on_settings_error, read_settings, shared_stack
from servicekit.startup import exit_when_unreachable, wait_until_reachable
from servicekit.tracing import traced
from tg_bot.notifications import Notifications
from tg_bot.settings import Settings
from tg_bot.telegram import TelegramApi
from tg_bot.updates import create_webhook_app, poll_updates

logger = logging.getLogger("tg_bot")


async def run(settings: Settings) -> None:
    async with AsyncExitStack() as stack:
        if settings.redis_url is not None:
            redis_url = str(settings.redis_url)
        else:
            redis_url = stack.enter_context(shared_stack("REDIS_URL").shared_redis())
            logger.info("no REDIS_URL; using the shared embedded Redis at %s", redis_url)
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=10, transport=traced()))
        # Signed as the service tg_bot, for the backend's users routes open to services.
        auth = ServiceTokenAuth(settings.signing_key(), "tg_bot", BackendUsersClient.service)
        users = BackendUsersClient(str(settings.backend_url), auth=auth)
        stack.push_async_callback(users.aclose)
        token = (
            settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else None
        )
        telegram = TelegramApi(str(settings.telegram_api_url), token, http)
        policy = DeliveryPolicy(
            max_failures=settings.events_max_failures,
            claim_idle=settings.events_claim_idle,
        )
        bus = EventBus(redis_url, consumer=settings.events_consumer_name, policy=policy)
        register_subscribers(bus, Notifications(telegram, users), settings.events_consumer_group)
        await wait_until_reachable("Redis (REDIS_URL)", bus.ping, settings.startup_timeout)
        await bus.start()
        stack.push_async_callback(bus.stop)
        if settings.metrics_port is not None:
            sampler = asyncio.create_task(sample_every(5.0, bus.sample_consumer_lag))
            stack.callback(sampler.cancel)
        logger.info("tg_bot consuming as group %s", settings.events_consumer_group)
        await receive_updates(settings, telegram, bus)


async def receive_updates(settings: Settings, telegram: TelegramApi, bus: EventBus) -> None:
    """Until cancelled: Telegram's updates by long polling or webhook; without a token, none."""
    if not telegram.enabled:
        logger.warning("no TELEGRAM_BOT_TOKEN: not receiving updates, logging outgoing messages")
        await asyncio.Event().wait()
    elif settings.telegram_mode == "polling":
        await poll_updates(telegram, bus, settings.telegram_poll_timeout)
    else:
        assert settings.telegram_webhook_secret is not None  # checked by Settings
        secret = settings.telegram_webhook_secret.get_secret_value()
        if settings.telegram_webhook_url is not None:
            await telegram.set_webhook(str(settings.telegram_webhook_url), secret)
        app = create_webhook_app(bus, secret)
        config = uvicorn.Config(
            app,
            host=settings.telegram_webhook_host,
            port=settings.telegram_webhook_port,
            log_config=None,  # servicekit.logs formats every line
        )
        await serve(config)


async def run_logging_its_end(settings: Settings) -> None:
    try:
        await run(settings)
    except asyncio.CancelledError:
        logger.info("tg_bot stopped")
        raise


def main() -> None:
    with exit_on_settings_error("tg_bot"):
        settings = read_settings(Settings)
    # httpx logs each request's URL, which carries the bot token: the log lines redact it.
    with (
        observed_process(settings, "tg_bot"),
        exit_on_settings_error("tg_bot"),
        exit_when_unreachable("tg_bot"),
    ):
        run_until_signalled(lambda: run_logging_its_end(settings))


if __name__ == "__main__":
    main()
