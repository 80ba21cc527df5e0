"""What is written: segments and words, the txt/srt/vtt/json files, subtitle cues."""
