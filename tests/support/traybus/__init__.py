"""Test helpers for the tray: a private desktop (Xvfb + session bus) and stand-ins on it.

The stand-ins are the two desktop services the tray talks to: a notification
server that records every Notify call, and a StatusNotifierWatcher so the
appindicator item registers and its menu can be read and clicked over D-Bus.
"""
