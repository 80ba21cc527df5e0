"""voxtrald: the daemon that turns dropped audio into transcripts, offline.

A map of the package, in the order a file travels through it.

The process
    run           `voxtrald run`: config, signals, the service manager's handshake
    daemon        wiring only: builds the parts, starts and stops them in order, health
    startup       what must hold before serving (one daemon per state folder, folders, store)
    config, paths the settings (every key declared and checked) and default places
    cli           the `voxtrald` command line; each feature registers its own subcommands

A file's way
    inbox, walk   watching the inbox; a file is handed over once it has settled
    media         which files are ours to take
    intake        a settled file becomes a queued, duplicate or failed job
    scheduler     the queue's loop: one job at a time, pause, holds, idle unload
    job_runner    one attempt: the worker's replies, progress, checkpoints, resume
    job_outcomes  how an attempt ends: transcripts written, or a failure with backoff
    disposal      where a source goes afterwards (Processed/, Failed/ with its reason)
    policy        the scheduler's rules as pure functions (backoff, ETA, idle unload)
    vocabulary    names to expect, from the settings and a NAME.vocab.txt sidecar
    outputs, subtitles   txt, srt, vtt and json; subtitle cues by convention
    transcript    Word and Segment, the one shape every part agrees on

The job store (SQLite)
    jobs          the jobs table and the Job record
    checkpoints   finished chunks of running jobs, for resuming
    store_db, store_schema   the connection, and the schema with its migrations

The worker
    worker        the daemon's side: start the child, feed it, watch it die
    worker_protocol   the typed messages both sides speak, one JSON line each
    engine/       the child process itself: decode, VAD, batched decoding, quality

What the world sees
    control       what the API may see of the daemon and change in it
    api/          HTTP/1.1 + JSON on the control socket (standard library server)
    events        the numbered event log clients long-poll
    activity      the running job's live progress and the scheduler's heartbeat
    client, cli_client, commands, render, watch, exit_codes   the client side

Features with their own package
    memory/       memory readings, levels with hysteresis, the sampler
    updates/      release check, signed downloads;  install/  side-by-side installs
    models/       offline models, assembled once and checked against pinned hashes
    service/      systemd, launchd and Windows start-up entries
    _platform/    everything that differs between operating systems

Small helpers
    atomic (temp, sync, rename), filenames, sources, hashing, lockfile,
    textsafe (control characters shown, not obeyed), jsontext, schema (shared
    StrEnums), sdnotify, version
"""
