"""Who spoke when: the GE2E speaker encoder, its windows, clustering and turns.

The engine side (mel, encoder, windows) runs in the worker on each chunk's
voiced audio; the pure side (clustering, turns, vectors) runs wherever all of
a file's windows are together, so labels stay the same across a resume.
`encoder.onnx` is resemblyzer 0.1.4's `pretrained.pt` (Apache-2.0, see
LICENSE-resemblyzer), converted by packaging/speaker-model/rebuild.py.
"""
