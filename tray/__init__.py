"""voxtral-tray: the system-tray view of the daemon."""
