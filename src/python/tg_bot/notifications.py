"""The bot's side of the notifications domain: what it does on `user_registered` and commands."""

from __future__ import annotations

from generated.models import CommandReceived, UserCreate, UserRegisteredEvent
from generated.tg_bot.clients import BackendUsersClient
from servicekit.events import current_event_id
from servicekit.http import ApiError
from tg_bot.telegram import TelegramApi

WELCOME = "Welcome! You are registered. Send /help to see what I can do."
ALREADY_REGISTERED = "You are already registered. Nice to see you again!"
HELP = "I know these commands:\n/start - register with the service\n/help - this message"


class Notifications:
    """Implements `generated.tg_bot.notifications.NotificationsController`."""

    def __init__(self, telegram: TelegramApi, users: BackendUsersClient) -> None:
        self._telegram = telegram
        self._users = users

    async def welcome_user(self, body: UserRegisteredEvent) -> None:
        await self._telegram.send_message(body.telegram_id, WELCOME)

    async def handle_command(self, body: CommandReceived) -> None:
        # In a private chat the chat id is the sender's user id.
        if body.command != "/start":
            await self._telegram.send_message(body.user_id, HELP)
            return
        try:
            # One key per command event, the same when it is delivered again: the client's
            # retries and a redelivery get the first answer, never a second registration.
            event_id = current_event_id()
            await self._users.create_user(
                UserCreate(telegram_id=body.user_id),
                idempotency_key=f"start-{event_id}" if event_id else None,
            )
        except ApiError as error:
            if error.status_code != 409:
                raise
            await self._telegram.send_message(body.user_id, ALREADY_REGISTERED)
        # A new user is greeted by welcome_user, on the user_registered event the backend publishes.
