"""Pretext tasks, one per module, found through the `synth.ssl_tasks` entry point (see `synth ssl-tasks`).
Each writes `labels["ssl"][task]` = {task, version, params, seed, ...targets} and `ssl.<task>.<key>` payloads."""
