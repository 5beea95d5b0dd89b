"""Provider protocol, Twilio and simulated providers, and the poller."""
