"""Side-by-side installs: one environment per version, a `current` pointer, launchers.

`layout` says where things are and what kind of install is running; `envbuild`
makes a version's environment; `apply` prepares an update inside the daemon;
`trial` starts a new version under the previous one's watch and `rollback`
puts the previous one back. Kept import-light: `trial` runs in the previous
version's environment before anything else is loaded.
"""
