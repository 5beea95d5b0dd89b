"""Rules of the Message Center, free of any storage or screen."""
