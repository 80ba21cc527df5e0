"""The client side: the connection to the daemon, the CLI's commands and how they print."""
