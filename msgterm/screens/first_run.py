"""First run: no provider configured yet. Says what to set, and offers the demo."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Center, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static


class FirstRunScreen(Screen):
    BINDINGS = [("d", "app.open_demo", "Open the demo"), ("q", "app.quit", "Quit")]
    DEFAULT_CSS = """
    FirstRunScreen VerticalScroll { align: center top; }
    FirstRunScreen #setup { width: 90; padding: 1 2; border: round $primary; }
    """

    def __init__(self, config_path: str) -> None:
        super().__init__()
        self.config_path = config_path

    def compose(self) -> ComposeResult:
        text = Text()
        text.append("Welcome to msgterm\n\n", style="bold")
        text.append("No SMS provider is configured yet. Put your Twilio details in\n  ")
        text.append(self.config_path, style="bold")
        text.append("\n(then chmod 600 it), or set them in the environment:\n\n")
        for key, env in (
            ("[twilio] account_sid", "TWILIO_ACCOUNT_SID"),
            ("[twilio] auth_token", "TWILIO_AUTH_TOKEN"),
            ("  or api_key + api_secret", "TWILIO_API_KEY, TWILIO_API_SECRET"),
            ("[twilio] number", "MSGTERM_TWILIO_NUMBER"),
        ):
            text.append(f"  {key:<28}", style="bold")
            text.append(env + "\n")
        text.append("\nThen import your clients:  msgterm clients import clients.csv\n")
        text.append('and add your staff:       msgterm staff add maria --name "Maria Lopez" --role "Front Desk"\n\n')
        text.append("Press d to try the demo (its own store, with simulated clients who reply), or q to quit.\n", style="bold")
        with VerticalScroll():
            with Center():
                yield Static(text, id="setup")
        yield Footer()
