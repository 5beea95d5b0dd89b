"""The thread pane: the conversation on screen, the reply being written to it, and sending.

The composer writes to the conversation the pane shows, and nothing else: switching
conversations keeps the text typed as that conversation's draft (in the store) and brings
back the draft of the next. A send names the conversation it was typed for, and goes
only if that is still the one on screen.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult, SuspendNotSupported
from textual.containers import Vertical
from textual.message import Message

from msgterm.domain.errors import ValidationError
from msgterm.domain.media import describe_file
from msgterm.domain.provider_errors import can_retry
from msgterm.domain.provider_message import Status
from msgterm.domain.sanitize import clean_line
from msgterm.editor import EditorFailed, edit_text
from msgterm.messages import StoreChanged
from msgterm.store.records import Attachment, ConversationRecord, MessageRecord
from msgterm.store_calls import StoreCalls
from msgterm.widgets.composer import Composer
from msgterm.widgets.presence_line import PresenceLine
from msgterm.widgets.thread_view import Hit, ThreadView

if TYPE_CHECKING:
    from msgterm.app import MsgtermApp

#: A draft is kept this long after the last keystroke (and at once on leaving it).
DRAFT_SAVE_DELAY = 0.4
#: How long quitting waits for the last draft to be written.
QUIT_WAIT = 2.0


class ThreadPane(Vertical):
    """Shows one conversation and writes replies to it."""

    class DraftsChanged(Message):
        """Conversations with a draft of this staff member, after a save or a send."""

        def __init__(self, conversation_ids: frozenset[int]) -> None:
            super().__init__()
            self.conversation_ids = conversation_ids

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.calls = StoreCalls(self)
        #: Drafts as this terminal last knew them, by conversation.
        self._drafts: dict[int, str] = {}
        self.draft_ids: frozenset[int] = frozenset()
        #: (conversation, its newest message) when it was opened or last warned about.
        self.seen_up_to: tuple[int, int] = (0, 0)
        self._unsaved: tuple[int, str] | None = None

    def compose(self) -> ComposeResult:
        yield ThreadView(id="thread")
        yield PresenceLine(id="presence")
        yield Composer(id="composer")

    def on_mount(self) -> None:
        # An interval paused between uses (a one-shot timer, once paused, never fires again).
        self._save_timer = self.set_interval(DRAFT_SAVE_DELAY, self.save_draft, pause=True)
        staff = self.msgterm.staff
        assert staff is not None, "the thread pane runs for a staff member"
        self.composer.set_read_only(
            None
            if staff.can_send
            else f"Read only: {staff.username} ({staff.role}) lacks the Send Email/SMS to clients permission"
        )

    @property
    def msgterm(self) -> MsgtermApp:
        return cast("MsgtermApp", self.app)

    @property
    def thread(self) -> ThreadView:
        return self.query_one(ThreadView)

    @property
    def composer(self) -> Composer:
        return self.query_one(Composer)

    @property
    def conversation(self) -> ConversationRecord | None:
        """The conversation on screen: the composer writes to it, and the thread shows it (or
        is being read to show it)."""
        return self.composer.conversation

    # ---- showing -----------------------------------------------------------------------------

    def show(
        self,
        conversation: ConversationRecord | None,
        messages: list[MessageRecord],
        *,
        keep_position: bool = False,
        hit: Hit | None = None,
        more_before: bool = False,
    ) -> None:
        """Show ``conversation``; a different one than before brings its own draft."""
        self.address(conversation)
        self.thread.show(conversation, messages, keep_position=keep_position, hit=hit, more_before=more_before)

    def address(self, conversation: ConversationRecord | None) -> None:
        """Write to ``conversation`` from now on (its thread may still be on its way): the text
        typed so far stays as the draft of the one before, and its own draft comes back."""
        if (conversation.id if conversation else None) != (self.conversation.id if self.conversation else None):
            self.save_draft()
            self._write_to(conversation)
        elif conversation is not None:
            self.composer.conversation = conversation  # the same one, read anew

    def _write_to(self, conversation: ConversationRecord | None) -> None:
        if conversation is None:
            self.composer.write_to(None)
            return
        self.composer.write_to(conversation, self._drafts.get(conversation.id, ""))
        if conversation.id in self.draft_ids and conversation.id not in self._drafts:
            store, staff = self.msgterm.store, self.msgterm.staff
            assert store is not None and staff is not None

            def arrived(draft: str) -> None:
                self._drafts[conversation.id] = draft
                still_here = self.composer.conversation is not None and self.composer.conversation.id == conversation.id
                if still_here and not self.composer.text:
                    self.composer.set_text(draft)

            self.calls.read(lambda: store.draft(staff, conversation.id), arrived, group="draft")

    def set_draft_ids(self, conversation_ids: frozenset[int]) -> None:
        """The conversations with a draft, as the store has them (read with the list)."""
        self.draft_ids = conversation_ids

    def opened(self, conversation_id: int, newest_message_id: int) -> None:
        """The user opened the conversation, and has seen it up to ``newest_message_id``."""
        self.seen_up_to = (conversation_id, newest_message_id)

    # ---- drafts ------------------------------------------------------------------------------

    def on_composer_draft_edited(self, event: Composer.DraftEdited) -> None:
        self._drafts[event.conversation_id] = event.body
        self._unsaved = (event.conversation_id, event.body)
        self._save_timer.reset()
        self._save_timer.resume()

    def save_draft(self) -> None:
        """Keep the text typed (if any changed) as its conversation's draft, in the store."""
        self._save_timer.pause()
        if self._unsaved is None:
            return
        (conversation_id, body), self._unsaved = self._unsaved, None
        store, staff = self.msgterm.store, self.msgterm.staff
        assert store is not None and staff is not None
        self.calls.write(lambda: store.save_draft(staff, conversation_id, body))
        self._note_draft(conversation_id, bool(body.strip()))

    def on_descendant_blur(self, event) -> None:
        if event.widget is self.composer.box:
            self.save_draft()  # leaving the box (escape, tab) keeps what was typed at once

    def flush_draft(self) -> None:
        """Quitting keeps the draft being typed: written on a thread of its own, waited for a
        moment at most (a store locked by another program must not hold up quitting)."""
        if self._unsaved is None:
            return
        (conversation_id, body), self._unsaved = self._unsaved, None
        store, staff = self.msgterm.store, self.msgterm.staff
        if store is None or staff is None:
            return
        saving = threading.Thread(target=store.save_draft, args=(staff, conversation_id, body), daemon=True)
        saving.start()
        saving.join(QUIT_WAIT)

    def _note_draft(self, conversation_id: int, has_draft: bool) -> None:
        ids = self.draft_ids | {conversation_id} if has_draft else self.draft_ids - {conversation_id}
        if ids != self.draft_ids:
            self.draft_ids = ids
            self.post_message(self.DraftsChanged(ids))

    def on_composer_edit_requested(self, event: Composer.EditRequested) -> None:
        """``ctrl+e``: the draft in the user's editor; the app gives it the terminal meanwhile."""
        try:
            with self.app.suspend():
                edited = edit_text(event.body)
        except SuspendNotSupported:
            self.notify("This terminal cannot hand over to an editor.", severity="warning")
            return
        except EditorFailed as error:
            self.notify(str(error), severity="error", markup=False)
            return
        composer = self.composer
        if composer.conversation is not None and composer.conversation.id == event.conversation_id:
            composer.set_text(edited)
            self.on_composer_draft_edited(Composer.DraftEdited(event.conversation_id, edited))
        self.composer.box.focus()

    # ---- sending -----------------------------------------------------------------------------

    def on_composer_send_requested(self, event: Composer.SendRequested) -> None:
        event.stop()
        if self.conversation is None or self.conversation.id != event.conversation_id:
            self.notify("Not sent: the conversation on screen changed. Your text is kept as its draft.", severity="warning")
            return
        conversation_id, body, seen_up_to = event.conversation_id, event.body, self.seen_up_to
        store, staff, sender = self.msgterm.store, self.msgterm.staff, self.msgterm.send_pipeline
        assert store is not None and staff is not None and sender is not None, "the thread pane sends with a provider"

        def check() -> int:
            """The composer's checks, then "did the client write meanwhile?"."""
            sender.validate(staff, conversation_id, body)
            seen_conversation, seen_message = seen_up_to
            arrived = store.inbound_after(conversation_id, seen_message) if seen_conversation == conversation_id else 0
            return arrived

        def checked(arrived: int) -> None:
            if arrived:
                # Another terminal's poller stored them while this reply was being written.
                self.calls.read(
                    lambda: store.newest_message_id(conversation_id), lambda n: self._warn(conversation_id, n, arrived)
                )
                return
            self._send_unless_quiet(conversation_id, body)

        self.calls.read(check, checked, group="send-check", exclusive=False)

    def _warn(self, conversation_id: int, newest: int, arrived: int) -> None:
        self.seen_up_to = (conversation_id, newest)
        self.notify(
            f"{arrived} new message{'s' if arrived > 1 else ''} since you opened this conversation. "
            "Read them above; press enter again to send as it is.",
            title="Not sent yet",
            severity="warning",
            timeout=8,
        )

    def _send(self, conversation_id: int, body: str) -> None:
        """Send, after every draft save asked for before (so that none brings the sent text
        back as a draft); never tried twice (``retry=False``: a second try could send twice)."""
        self._forget_text(conversation_id)
        store, staff, sender = self.msgterm.store, self.msgterm.staff, self.msgterm.send_pipeline
        assert store is not None and staff is not None and sender is not None
        self.calls.write(
            lambda: sender.send(staff, conversation_id, body),
            lambda result: None if result.ok else self._say(f"Not sent: {result.reason}"),
            finally_=lambda: self._changed(conversation_id),
            retry=False,
        )

    def _send_unless_quiet(self, conversation_id: int, body: str) -> None:
        """Send now; inside the quiet hours, ask first (send when they end, now, or not)."""
        from msgterm.domain.when import to_local
        from msgterm.screens.quiet_hours_question import LATER, NOW, QuietHoursQuestion

        timing, now = self.msgterm.timing, self.msgterm.clock()
        quiet = timing.quiet_hours
        if quiet is None or not quiet.contains(now, timing.zone):
            self._send(conversation_id, body)
            return
        ends = quiet.end_after(now, timing.zone)

        def answered(choice: str | None) -> None:
            if choice == NOW:
                self._send(conversation_id, body)
            elif choice == LATER:
                self._schedule(conversation_id, body, ends)

        whom = clean_line(self.conversation.title) if self.conversation else "this client"
        self.app.push_screen(QuietHoursQuestion(whom, str(quiet), f"{to_local(ends, timing.zone):%H:%M}"), answered)

    def _forget_text(self, conversation_id: int) -> None:
        """The composer's text became a message (sent or scheduled): it is no draft any more."""
        if self.composer.conversation is not None and self.composer.conversation.id == conversation_id:
            self.composer.clear()
        self._save_timer.pause()
        if self._unsaved is not None and self._unsaved[0] == conversation_id:
            self._unsaved = None
        self._drafts.pop(conversation_id, None)
        self._note_draft(conversation_id, False)

    # ---- templates and later ---------------------------------------------------------------

    def insert_template(self) -> None:
        """Pick a template and put it into the composer, filled in for this client."""
        from msgterm.domain.templates import expand
        from msgterm.screens.template_picker import TemplatePicker

        conversation = self.composer.conversation
        store, staff = self.msgterm.store, self.msgterm.staff
        if conversation is None or store is None or staff is None:
            return
        whom = clean_line(conversation.title)

        def read():
            return store.templates(), store.merge_values_for(staff, conversation.id)

        def pick(found) -> None:
            templates, values = found

            def picked(template) -> None:
                if (
                    template is not None
                    and self.composer.conversation is not None
                    and self.composer.conversation.id == conversation.id
                ):
                    self.composer.insert(expand(template.body, values))

            self.app.push_screen(TemplatePicker(whom, templates), picked)

        self.calls.read(read, pick, group="templates")

    def send_later(self) -> None:
        """Schedule the composer's text for a time picked or typed."""
        from msgterm.domain.when import snooze_presets
        from msgterm.screens.when_picker import WhenPicker
        from msgterm.sync.send import check_body

        conversation = self.composer.conversation
        if conversation is None:
            return
        body = self.composer.text
        try:
            check_body(body)
        except ValidationError as error:
            self._say(f"Not scheduled: {error}")
            return
        timing, now = self.msgterm.timing, self.msgterm.clock()

        def picked(at) -> None:
            if at is not None:
                self._schedule(conversation.id, body, at)

        heading = f"Send later to {clean_line(conversation.title)}"
        self.app.push_screen(WhenPicker(heading, snooze_presets(now, timing.zone), now, timing.zone, timing.quiet_hours), picked)

    def _schedule(self, conversation_id: int, body: str, at) -> None:
        from msgterm.screens.when_picker import spoken

        store, staff, sender = self.msgterm.store, self.msgterm.staff, self.msgterm.send_pipeline
        assert store is not None and staff is not None and sender is not None
        zone = self.msgterm.timing.zone

        def scheduled(_message) -> None:
            self._forget_text(conversation_id)
            self.notify(f"Scheduled for {spoken(at, zone)} · X cancels it", timeout=4)

        self.calls.write(
            lambda: sender.schedule(staff, conversation_id, body, at),
            scheduled,
            failed=lambda error: self._say(f"Not scheduled: {error}"),
            finally_=lambda: self._changed(conversation_id),
        )

    def cancel_next_scheduled(self) -> None:
        """Cancel the conversation's soonest scheduled message."""
        conversation = self.conversation
        store, staff = self.msgterm.store, self.msgterm.staff
        if conversation is None or store is None or staff is None:
            return

        def cancel(waiting) -> None:
            mine = [item for item in waiting if item.conversation_id == conversation.id]
            if not mine:
                self.notify("Nothing is scheduled in this conversation.", timeout=3)
                return
            self.calls.write(
                lambda: store.cancel_scheduled(staff, mine[0].message_id),
                lambda _m: self.notify("Canceled: the scheduled message will not be sent.", timeout=3),
                failed=lambda error: self._say(str(error)),
                finally_=lambda: self._changed(conversation.id),
            )

        self.calls.read(store.scheduled_sends, cancel, group="scheduled")

    def retry_last_failed(self) -> None:
        """Send the conversation's last failed message again, if sending again can help."""
        conversation = self.conversation
        store, staff, sender = self.msgterm.store, self.msgterm.staff, self.msgterm.send_pipeline
        if conversation is None or store is None or staff is None or sender is None:
            return

        def retry(messages: list[MessageRecord]) -> None:
            failed = [m for m in messages if m.status == Status.FAILED and m.sid is None]
            retryable = [m for m in failed if can_retry(m.error_code)]
            if not retryable:
                why = " (sending it again cannot help: see the reason under it)" if failed else ""
                self.notify(f"Nothing to retry in this conversation{why}.", timeout=3)
                return
            message_id = retryable[-1].id
            self.calls.write(
                lambda: sender.retry(staff, message_id),
                lambda result: None if result.ok else self._say(f"Not sent: {result.reason}"),
                finally_=lambda: self._changed(conversation.id),
                retry=False,
            )

        self.calls.read(lambda: store.messages(conversation.id), retry, group="retry")

    def open_attachment(self) -> None:
        """Open a file of the conversation on screen (the newest at once when it has one,
        else a list to pick from): downloaded off the UI thread, then the system's viewer."""
        from msgterm.screens.attachment_picker import AttachmentPicker

        conversation, store = self.conversation, self.msgterm.store
        if conversation is None or store is None:
            return

        def listed(found: tuple[list[Attachment], int]) -> None:
            files, waiting = found
            if not files:
                later = f": {waiting} MMS being read from Twilio, try again in a moment" if waiting else ""
                self.notify(f"No attachments in this conversation{later}.", timeout=3)
            elif len(files) == 1:
                self._open_file(conversation.id, files[0], conversation.title)
            else:
                self.app.push_screen(
                    AttachmentPicker(clean_line(conversation.title), files),
                    lambda picked: self._open_file(conversation.id, picked, conversation.title) if picked else None,
                )

        self.calls.read(lambda: store.conversation_media(conversation.id), listed, group="attachments")

    def _open_file(self, conversation_id: int, attachment: Attachment, attachment_owner: str) -> None:
        """Download one file, then draw it here (an image, where the terminal can) or start
        the system viewer on it."""
        from msgterm.domain.provider_message import ProviderMedia
        from msgterm.sync.attachments import MediaCache, download
        from msgterm.sync.provider import ProviderError
        from msgterm.viewer import open_with_viewer

        store, provider = self.msgterm.store, self.msgterm.provider
        if provider is None:
            self._say("Attachments download from Twilio: start msgterm with Twilio set up (or msgterm demo) to open them.")
            return
        file = attachment.file
        media = ProviderMedia(file.sid, attachment.message_sid, file.content_type)
        self.notify(f"Opening {describe_file(file.content_type, file.size)}…", timeout=2, markup=False)

        image_widget = self.msgterm.image_widget if file.content_type.startswith("image/") else None

        def fetch() -> tuple[Path | None, str | None]:
            try:
                path = download(provider, store, media, MediaCache())
            except ProviderError as error:
                return None, f"Could not download the attachment: {error}"
            return path, (None if image_widget else open_with_viewer(path))

        def done(result: tuple[Path | None, str | None]) -> None:
            path, problem = result
            if problem:
                self._say(problem)
            elif path is not None and image_widget is not None:
                from msgterm.screens.image_viewer import ImageViewer

                title = f"{describe_file(file.content_type, file.size)} from {clean_line(attachment_owner)}"
                self.app.push_screen(ImageViewer(path, title, image_widget))
            self._changed(conversation_id)  # its size, or why it failed, is on the bubble now

        self.calls.read(fetch, done, group="attachment-download")

    def _changed(self, conversation_id: int) -> None:
        """The send is stored (sent or failed): the screen reads the conversation anew."""
        self.post_message(StoreChanged(frozenset({conversation_id})))

    def _say(self, words: str) -> None:
        self.notify(words, severity="error", markup=False)
