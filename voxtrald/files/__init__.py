"""Files and text handled safely: atomic writes, names, hashes, locks, untrusted text."""
