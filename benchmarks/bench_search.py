"""Transcript search at scale: query latency, indexing cost and index size.

Generates N transcripts (default 10,000 of 3 minutes each: about 500 hours of
speech at 150 words a minute, one segment per ~5 s) from a Zipf-distributed
vocabulary of generated words, indexes them through the job store exactly as
finished jobs are (`JobStore.finish` with their lines), then measures:

- search latency of two-word queries through `JobStore.search` (best 20 by
  bm25): words drawn from the typical content range of the vocabulary, and
  separately the worst case of two of the most common words, which match
  most segments (and so come newest first, see `store.search`);
- indexing time per hour of transcript, set against a job's wall time for an
  hour of audio at a given real-time factor (`--rtf`);
- the database size per hour of transcript (the jobs alone, then with the index).

The visibility check of the API (each hit's transcript file looked at) is not
part of the figures: the generated jobs have no files.

    python benchmarks/bench_search.py [--transcripts 10000] [--minutes 3] [--queries 300]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from voxtrald.store.jobs import JobStore
from voxtrald.store.search import RANK_AT_MOST, Line

WORDS_PER_MINUTE = 150
SEGMENT_SECONDS = 5.0
VOCABULARY = 30_000


def make_vocabulary(rng: random.Random) -> list[str]:
    syllables = ["ka", "lo", "mi", "ren", "tas", "vo", "bre", "du", "ne", "sil", "or", "pa",
                 "te", "gru", "an", "é", "ü", "ch", "ri", "mon"]
    words: set[str] = set()
    while len(words) < VOCABULARY:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(1, 4))))
    return sorted(words, key=lambda w: (len(w), w))


def zipf_weights(n: int) -> list[float]:
    return [1.0 / (rank + 1) for rank in range(n)]


def transcript(rng: random.Random, vocab: list[str], cum: list[float], minutes: float
               ) -> list[Line]:
    words = rng.choices(vocab, cum_weights=cum, k=int(minutes * WORDS_PER_MINUTE))
    per_segment = int(WORDS_PER_MINUTE / 60 * SEGMENT_SECONDS)
    lines = []
    for i in range(0, len(words), per_segment):
        start = i / WORDS_PER_MINUTE * 60
        lines.append(Line(start, start + SEGMENT_SECONDS,
                          " ".join(words[i:i + per_segment]).capitalize() + "."))
    return lines


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def db_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.iterdir() if p.name.startswith("jobs.sqlite3"))


def latencies(store: JobStore, queries: list[str]) -> list[float]:
    out = []
    for query in queries:
        started = time.perf_counter()
        store.search(query, 20)
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--transcripts", type=int, default=10_000)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--rtf", type=float, default=0.1,
                        help="a job's wall time per second of audio (default 0.1, faster "
                             "than the default model on 2 cores, so the ratio is a bound)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    vocab = make_vocabulary(rng)
    cum: list[float] = []
    total = 0.0
    for weight in zipf_weights(len(vocab)):
        total += weight
        cum.append(total)
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        folder = Path(tmp)
        store = JobStore(folder / "jobs.sqlite3")
        index_seconds = 0.0
        segments = 0
        # Jobs first, without their lines, for the size of the store without an index.
        ids = []
        store._db.execute("PRAGMA synchronous=OFF")  # setup only: the jobs themselves
        for n in range(args.transcripts):
            job, _ = store.add(f"/in/t{n}.wav", f"t{n}.wav", "", f"sha{n}", 1, 1.0, 3)
            store.start(job.id)
            store.finish(job.id, [f"/out/t{n}.json"], args.minutes * 60, 1.0, "xx")
            ids.append(job.id)
        store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        bare = db_bytes(folder)
        store._db.execute("PRAGMA synchronous=FULL")  # indexing measured as the daemon runs
        # CPU time, not wall time: the fsync at the end of the step is the same with or
        # without the index, and its wait is the disk's noise, not the index's cost.
        bare_finish = []
        for job_id in ids[:200]:  # the finish step alone, for the indexing share below
            started = time.process_time()
            store.finish(job_id, [], args.minutes * 60, 1.0, "xx")
            bare_finish.append(time.process_time() - started)
        for job_id in ids:
            lines = transcript(rng, vocab, cum, args.minutes)
            segments += len(lines)
            started = time.process_time()
            store.finish(job_id, [f"/out/t{job_id}.json"], args.minutes * 60, 1.0, "xx",
                         lines=lines)
            index_seconds += time.process_time() - started
        store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        indexed = db_bytes(folder)
        hours = args.transcripts * args.minutes / 60
        content = vocab[100:5000]
        typical = [f"{rng.choice(content)} {rng.choice(content)}" for _ in range(args.queries)]
        common = [f"{rng.choice(vocab[:10])} {rng.choice(vocab[:10])}"
                  for _ in range(max(20, args.queries // 10))]
        # Frequent but not the commonest: many matches, still ranked by bm25.
        frequent = [f"{rng.choice(vocab[10:100])} {rng.choice(vocab[10:100])}"
                    for _ in range(args.queries)]
        latencies(store, typical[:20])  # warm the page cache
        typical_ms = latencies(store, typical)
        common_ms = latencies(store, common)
        frequent_ms = latencies(store, frequent)
        answers = {name: [store.search(q, 20) for q in batch]
                   for name, batch in (("typical", typical), ("common", common),
                                       ("frequent", frequent))}
        found = {name: sum(bool(h) for h in got) for name, got in answers.items()}
        newest = {name: sum(bool(h) and not h[0].ranked for h in got)
                  for name, got in answers.items()}
        store.close()
    finish_alone = statistics.mean(bare_finish) * args.transcripts
    index_per_hour = (index_seconds - finish_alone) / hours
    job_per_hour = 3600 * args.rtf
    print(f"transcripts: {args.transcripts} x {args.minutes:g} min = {hours:.0f} h, "
          f"{segments} segments, cpus: {os.cpu_count()}")
    for name, key, values in (("typical two-word query", "typical", typical_ms),
                              ("two of words 10-100 by frequency", "frequent", frequent_ms),
                              ("two of the 10 commonest words", "common", common_ms)):
        print(f"{name}: median {statistics.median(values):.1f} ms, p99 "
              f"{percentile(values, 99):.1f} ms, max {max(values):.1f} ms ({len(values)} "
              f"queries, {found[key]} with hits, {newest[key]} of them newest first as over "
              f"{RANK_AT_MOST} segments matched)")
    print(f"indexing: {index_per_hour * 1000:.1f} ms per hour of transcript = "
          f"{100 * index_per_hour / job_per_hour:.3f} % of a job's wall time at "
          f"real-time factor {args.rtf:g}")
    print(f"database: {bare / hours / 1024:.1f} KiB per hour without the index, "
          f"{indexed / hours / 1024:.1f} KiB per hour with it "
          f"(index {(indexed - bare) / hours / 1024:.1f} KiB per hour; total "
          f"{indexed / 2**20:.1f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
