"""What scenes and pretext tasks are made of: Sample and its payloads, the Scene and PretextTask bases with
their entry-point registries, and the seeded streams every draw comes from."""
