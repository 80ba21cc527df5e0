"""voxtrald: the daemon that turns dropped audio into transcripts, offline.

A map of the package, in the order a file travels through it. Each folder is one
part of the architecture; the modules at the top are the process and the names
every part shares.

The process (top level)
    run           `voxtrald run`: config, signals, the service manager's handshake
    daemon        wiring only: builds the parts, starts and stops them in order, health
    startup       what must hold before serving (one daemon per state folder, folders, store)
    config, paths the settings (every key declared and checked) and default places
    config_checks what each key's value must be (shared with folder rules)
    cli           the `voxtrald` command line; each feature registers its own subcommands
    events        the numbered event log clients long-poll
    states        names shared by the daemon, the API, the CLI and the tray (StrEnums:
                  job states, memory levels, daemon states, event types)
    bodies        the API's JSON bodies (status, jobs, events, health, errors, the memory
                  reading, update check, download, apply and rollback) as TypedDicts,
                  built by the daemon, read back by clients (client/read)
    exit_codes, version

inbox/            when a file is ready
    watcher       watching the inbox; a file is handed over once it has settled
    walk          listing a folder's files without trusting its shape
    media         which files are ours to take

jobs/             what happens to a job and its source
    intake        a settled file becomes a queued, duplicate or failed job
    scheduler     the queue's loop: one job at a time, pause, holds, idle unload
    runner        one attempt: the worker's replies, progress, checkpoints, resume
    cancelling    cancelling one job, queued or running, never racing its end
    outcomes      how an attempt ends: transcripts written, or a failure with backoff
    disposal      where a source goes afterwards (Processed/, Failed/ with its reason)
    sources       a user's source file: hashed, moved on, set aside, brought back
    policy        the scheduler's rules as pure functions (backoff, ETA, idle unload)
    activity      the running job's live progress and the scheduler's heartbeat
    vocabulary    names to expect, from the settings and a NAME.vocab.txt sidecar
    errors        why a request about a job is refused (JobNotFound, NotRetryable, ...)
    speaker_sidecar, speaker_labels   NAME.speakers.txt; a finished job's words labelled
    rules         folder rules (.voxtral.toml): nearest wins, key by key, over the config
    holds         folders held by a broken rules file, for health and status
    explain       the settings a file would get, and where each came from
    translation   the English translation: a second pass in the same worker
    hooks         the user's command when a job ends, never holding the queue

store/            the job store (SQLite)
    jobs          the jobs table and the Job record
    sql_states    job states as SQL literals, built from JobState
    chunks        finished chunks of running jobs (with their voice windows), for resuming
    speaker_names the names a user gave a job's speakers
    db, migrations   the connection, and the schema with its migrations
    search        the transcript search index (FTS5), kept in step with the jobs
    searchtext    text as the index sees it (CJK split), a query made safe FTS5 syntax

transcripts/      what is written
    segments      Word and Segment, the one shape every part agrees on
    outputs       txt, srt, vtt and json files
    subtitles     subtitle cues by convention
    voices, speaker_turns, speakers, relabel   voice windows, words to speakers, labels
                  in each format, renaming a finished job's speakers

worker/           the daemon's side of the worker child
    process       start the child, feed it, watch it die
    protocol      the typed messages both sides speak, one JSON line each
engine/           the child process itself: decode, VAD, batched decoding, quality
    speakers/     the speaker encoder (ONNX), its mel front end, windows, clustering

api/              what the world sees
    control       what the API may see of the daemon and change in it
    speaker_routes   a finished job's speakers, listed and renamed
    transcript_routes  search, reindex, explain; a hit only for a caller who may read it
    (the rest)    HTTP/1.1 + JSON on the control socket (standard library server)
client/           the client side: connection, read (an answer into its declared body,
                  tolerant of older and newer daemons; the tray's reader too), calls
                  (call and print), commands, render, watch, speaker_commands
                  (`voxtrald speakers`), transcripts (search, reindex, explain)

Features with their own package
    memory/       memory readings, levels with hysteresis, the sampler
    updates/      release check, signed downloads;  install/  side-by-side installs
    models/       offline models, assembled once and checked against pinned hashes
                  (speaker: the speaker encoder's pin)
    service/      systemd, launchd and Windows start-up entries, sd_notify
    _platform/    everything that differs between operating systems

files/            small helpers for files and text
    atomic (temp, sync, rename), filenames, hashing, locks, jsontext,
    textsafe (control characters shown, not obeyed)
"""
