"""The transcription worker: the child process that holds the model, and its parts.

Everything here runs in the worker process (`python -m voxtrald.engine`),
never in the daemon, which therefore never imports numpy, PyAV or
faster-whisper. The daemon's side of the conversation is `voxtrald.worker.process`;
the messages are `voxtrald.worker.protocol`.

- `process`: the process itself (settings, the serve loop, dying with the daemon)
- `transcriber`: one file: decoded as a stream, cut into chunks, each chunk batched
- `audio`: streaming decode to 16 kHz mono, through a checked descriptor, hashed
- `chunking`: memory-bounded chunks cut at quiet moments
- `windows`: which stretches of speech the model reads (Silero VAD), up to 30 s each
- `whisper_batch`: faster-whisper's batched decoding with a per-window language
- `batching`: how many windows at once, from the memory available (pure)
- `language`: detection when unsure, the English-only check (pure)
- `quality`: loops and text on non-speech, flagged or removed (pure)
- `segmenting`: model output to Segments: file times, sentence-sized pieces (pure)
- `spelling`: a vocabulary spelled the user's way (pure)
"""
