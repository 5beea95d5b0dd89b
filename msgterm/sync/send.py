"""The send pipeline shared by the composer and ``msgterm send`` (PRODUCT.md §2)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from msgterm.domain.errors import MsgtermError, ValidationError
from msgterm.domain.permissions import Action, StaffMember, require
from msgterm.domain.phones import parse_mobile
from msgterm.domain.provider_errors import can_retry, describe_error
from msgterm.domain.provider_message import Status
from msgterm.domain.segments import MAX_BODY_CHARS
from msgterm.domain.templates import unfilled
from msgterm.store.records import MessageRecord
from msgterm.sync.ports import SendLedger
from msgterm.sync.provider import AuthFailed, Provider, ProviderError, RateLimited, Rejected

log = logging.getLogger(__name__)

#: Twilio's "Attempt to send to unsubscribed recipient".
OPTED_OUT = 21610


@dataclass(frozen=True)
class SendResult:
    message: MessageRecord
    ok: bool
    reason: str = ""


def check_body(body: str) -> str:
    if not body.strip():
        raise ValidationError("the message is blank; type something to send")
    if len(body) > MAX_BODY_CHARS:
        raise ValidationError(f"the message is {len(body)} characters; the limit is {MAX_BODY_CHARS}. Shorten it.")
    missing = unfilled(body)
    if missing:
        fields = ", ".join("{" + field + "}" for field in missing)
        raise ValidationError(f"the message still has {fields}: the client has no value for it. Write it in before sending.")
    return body


class SendPipeline:
    def __init__(self, store: SendLedger, provider: Provider, region: str = "US") -> None:
        self.store = store
        self.provider = provider
        self.region = region

    def validate(self, staff: StaffMember, conversation_id: int, body: str) -> str:
        """Every check before anything is stored; returns the E.164 number to send to."""
        require(staff, Action.SEND)
        check_body(body)
        conversation = self.store.conversation(conversation_id)
        phone = parse_mobile(conversation.phone, self.region)
        if conversation.opted_out or self.store.opted_out_phone(phone):
            raise ValidationError(
                f"{conversation.title} has opted out of texts (replied STOP); they must text START before you can message them."
            )
        return phone

    def send(self, staff: StaffMember, conversation_id: int, body: str) -> SendResult:
        phone = self.validate(staff, conversation_id, body)
        message = self.store.begin_send(staff, conversation_id, body)
        return self._deliver(staff, message, phone)

    def schedule(self, staff: StaffMember, conversation_id: int, body: str, send_at: datetime) -> MessageRecord:
        """Store a message to go out at ``send_at`` (UTC), after the checks of a send: a
        client who opted out is refused now, not at the time."""
        self.validate(staff, conversation_id, body)
        return self.store.schedule_send(staff, conversation_id, body, send_at)

    def send_claimed(self, message: MessageRecord) -> SendResult:
        """A scheduled message the lease holder claimed at its time (status ``sending``):
        checked again, since the client may have opted out or lost their number, then sent;
        or failed, with the reason in words."""
        try:
            staff = self.store.staff_member(message.staff_username or "")
            phone = self.validate(staff, message.conversation_id, message.body)
            conversation = self.store.conversation(message.conversation_id)
            if conversation.client_id is not None and phone not in self.store.client_numbers(conversation.client_id):
                raise ValidationError(
                    f"{conversation.title} no longer has this number in the client directory; check the number and send again"
                )
        except MsgtermError as error:
            failed = self.store.fail_send(message.id, None, f"not sent at its time: {error}")
            return SendResult(failed, False, str(error))
        return self._deliver(staff, message, phone)

    def retry(self, staff: StaffMember, message_id: int) -> SendResult:
        """Send a failed message again, reusing its row."""
        failed = self.store.message(message_id)
        if failed.status != Status.FAILED or failed.sid is not None:
            raise ValidationError("only a message that failed before Twilio accepted it can be retried")
        if not can_retry(failed.error_code):
            raise ValidationError(f"sending it again cannot help: {describe_error(failed.error_code, failed.error_message)}")
        phone = self.validate(staff, failed.conversation_id, failed.body)
        message = self.store.restart_send(staff, message_id)
        return self._deliver(staff, message, phone)

    def _deliver(self, staff: StaffMember, message: MessageRecord, phone: str) -> SendResult:
        try:
            accepted = self.provider.send_message(phone, message.body)
        except (Rejected, RateLimited, AuthFailed) as error:
            # Twilio refused it: nothing was sent, so a retry can never send it twice.
            words = describe_error(error.code or 20429, None) if isinstance(error, RateLimited) else str(error)
            failed = self.store.fail_send(message.id, error.code, words)
            if error.code == OPTED_OUT:  # the client replied STOP to the carrier: Twilio knows before we do
                self.store.record_opt_out(message.conversation_id, f"Twilio error {OPTED_OUT}")
            return SendResult(failed, False, words)
        except ProviderError as error:
            # We cannot tell whether Twilio took it: the poller reconciles it with the log.
            log.warning("send of message %s unconfirmed: %s", message.id, error)
            pending = self.store.fail_send(message.id, error.code, f"not confirmed yet: {error}", status=Status.UNCONFIRMED)
            return SendResult(
                pending, False, f"not confirmed: {error}. msgterm will check Twilio's log before anything is resent."
            )
        return SendResult(self.store.finish_send(staff, message.id, accepted), True)
