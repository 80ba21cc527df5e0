"""faster-whisper's batched pipeline, with a language switch only where the model is sure.

faster-whisper's `multilingual` mode takes each window's most likely
language, however unsure: on a one-word French clip Whisper base says
Russian (p = 0.66) and writes Cyrillic. Here a window keeps the file's
language unless the model is confident it hears another one, so a talk that
moves from English to German follows it, while short or unclear windows stay
in the language of the file.

This is the one module that reaches into faster-whisper's internals (it
mirrors `BatchedInferencePipeline.generate_segment_batched` of 1.1/1.2); the
rest of the engine uses only its public API.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from faster_whisper import BatchedInferencePipeline

#: A window switches language when the model gives another language at least this.
SWITCH_PROBABILITY = 0.8


def window_language(
    ranked: list[tuple[str, float]], file_token: str, threshold: float = SWITCH_PROBABILITY,
    allowed: tuple[str, ...] = (),
) -> str:
    """The language token for one window: its top language if sure enough, else the file's.

    With `allowed` (codes such as "en"), only those languages are taken, judged
    on their share of the probability among them.
    """
    if allowed:
        kept = [(t, p) for t, p in ranked if t.strip("<|>") in allowed]
        mass = sum(p for _t, p in kept)
        ranked = [(t, p / mass) for t, p in kept] if mass > 0 else []
    if ranked and ranked[0][1] >= threshold:
        return ranked[0][0]
    return file_token


class SteadyBatchedPipeline(BatchedInferencePipeline):
    #: The languages a window may switch to (codes); empty: any.
    allowed: tuple[str, ...] = ()

    def generate_segment_batched(
        self, features: np.ndarray, tokenizer: Any, options: Any
    ) -> tuple[Any, list[dict[str, Any]]]:
        batch_size = features.shape[0]
        prompt = self.model.get_prompt(
            tokenizer,
            previous_tokens=(
                tokenizer.encode(options.initial_prompt)
                if options.initial_prompt is not None else []
            ),
            without_timestamps=options.without_timestamps,
            hotwords=options.hotwords,
        )
        if options.max_new_tokens is not None:
            max_length = len(prompt) + options.max_new_tokens
        else:
            max_length = self.model.max_length
        if max_length > self.model.max_length:
            raise ValueError(
                f"the prompt ({len(prompt)} tokens) leaves no room for text "
                f"within the model's {self.model.max_length} tokens"
            )
        encoder_output = self.model.encode(features)
        prompts = [prompt.copy() for _ in range(batch_size)]
        if options.multilingual:
            file_token = tokenizer.tokenizer.id_to_token(tokenizer.language)
            index = prompt.index(tokenizer.language)
            for i, ranked in enumerate(self.model.model.detect_language(encoder_output)):
                token = window_language(ranked, file_token, allowed=self.allowed)
                prompts[i][index] = tokenizer.tokenizer.token_to_id(token)
        results = self.model.model.generate(
            encoder_output,
            prompts,
            beam_size=options.beam_size,
            patience=options.patience,
            length_penalty=options.length_penalty,
            max_length=max_length,
            suppress_blank=options.suppress_blank,
            suppress_tokens=options.suppress_tokens,
            return_scores=True,
            return_no_speech_prob=True,
            sampling_temperature=options.temperatures[0],
            repetition_penalty=options.repetition_penalty,
            no_repeat_ngram_size=options.no_repeat_ngram_size,
        )
        output = []
        for result in results:
            seq_len = len(result.sequences_ids[0])
            cum_logprob = result.scores[0] * (seq_len**options.length_penalty)
            output.append({
                "avg_logprob": cum_logprob / (seq_len + 1),
                "no_speech_prob": result.no_speech_prob,
                "tokens": result.sequences_ids[0],
            })
        return encoder_output, output


def detect_and_score(
    model: Any, audio: np.ndarray, candidates: Callable[[list[tuple[str, float]]], list[str]],
    hotwords: str | None, initial_prompt: str | None,
) -> tuple[list[tuple[str, float]], list[tuple[str, float, int, float, str]]]:
    """Detect the language of one window (at most 30 s), then try the candidates on it.

    One encoding serves both: the detector's ranking, then a greedy decode of
    the window in each language `candidates(ranking)` names. Returns the
    ranking [(language, probability)] and, per candidate, (language,
    avg_logprob, tokens, no_speech_prob, text).
    """
    from faster_whisper.audio import pad_or_trim
    from faster_whisper.tokenizer import Tokenizer
    from faster_whisper.transcribe import get_ctranslate2_storage, get_suppressed_tokens

    features = pad_or_trim(model.feature_extractor(audio)[..., :-1])
    encoded = model.encode(features)
    ranked = [(token[2:-2], float(p)) for token, p in model.model.detect_language(encoded)[0]]
    languages = candidates(ranked)
    if not languages:
        return ranked, []
    batch = get_ctranslate2_storage(np.repeat(np.asarray(encoded), len(languages), axis=0))
    prompts, tokenizers = [], []
    for lang in languages:
        tok = Tokenizer(model.hf_tokenizer, True, task="transcribe", language=lang)
        previous = tok.encode(" " + initial_prompt.strip()) if initial_prompt else []
        prompts.append(model.get_prompt(tok, previous, without_timestamps=True,
                                        hotwords=hotwords))
        tokenizers.append(tok)
    results = model.model.generate(
        batch, prompts, beam_size=1, max_length=model.max_length, return_scores=True,
        return_no_speech_prob=True, suppress_blank=True,
        suppress_tokens=get_suppressed_tokens(tokenizers[0], [-1]),
    )
    scored = []
    for lang, tok, result in zip(languages, tokenizers, results, strict=True):
        ids = result.sequences_ids[0]
        avg = result.scores[0] * len(ids) / (len(ids) + 1)
        scored.append((lang, float(avg), len(ids), float(result.no_speech_prob), tok.decode(ids)))
    return ranked, scored
