"""Generation: the per-sample producer, generate (shards, staging, resume, one commit) and the executors
that render shards (local processes, Ray), with progress."""
