"""`synth label-issues` (likely label errors from a model's probabilities, as a review file) and
`synth similar` (nearest neighbours of failures in a pool, as a tag and Label Studio tasks)."""
from __future__ import annotations

import click

from synth.cli.options import emit, output_options, workspace_option


def _version(v: str | None) -> int | str | None:
    return int(v) if v is not None and v.isdigit() else v


@click.command("label-issues")
@click.option("--predictions", "model", required=True, help="Model name given to `synth predictions import`.")
@click.option("--version", default=None, help="Labels as current at this version (default: the predictions').")
@click.option("-o", "--out", default="label_issues.csv", show_default=True, type=click.Path(dir_okay=False),
              help="Review file: edit it (clear `class` to keep a label), then `synth labels import` it.")
@click.option("--top", type=click.IntRange(1), default=None, help="Only the N most likely errors.")
@workspace_option
@output_options
def label_issues_cmd(model: str, version: str | None, out: str, top: int | None, workspace: str | None,
                     as_json: bool, quiet: bool) -> None:
    """Rows whose label the model most confidently contradicts (Cleanlab's confident learning), most
    likely error first, written as a review file that `synth labels import` takes back."""
    from synth import api
    from synth.loop.label_issues import label_issues, write_review

    issues = label_issues(api.open_workspace(workspace), model, _version(version))[:top]
    write_review(issues, out)
    emit([it.as_dict() for it in issues], lambda: "\n".join(
        [f"{it.rank:>4}  {it.sample_id}  given {it.given} -> model {it.suggested} (confidence {it.self_confidence:.3f})"
         for it in issues[:20]] + [f"{len(issues)} likely label errors; review {out}, then `synth labels import {out}`"]),
        as_json, quiet)


@click.command("similar")
@click.option("--to", "to", required=True, help="Sample ids (comma list or a file, one a line) or a saved slice name.")
@click.option("--pool", default=None, help="Version or tag to search in (default: latest).")
@click.option("-k", "k", type=click.IntRange(1, 10_000), default=10, show_default=True, help="Neighbours per sample.")
@click.option("--origin", type=click.Choice(["real", "synthetic"]), default="real", show_default=True,
              help="Which rows of the pool are candidates.")
@click.option("--embeddings", "model", default=None, help="Use this model's embeddings (from its predictions).")
@click.option("--tag", default=None, help="Save the neighbours as a slice of this name (for --to and reports).")
@click.option("--label-studio", "label_studio", default=None, type=click.Path(file_okay=False),
              help="Write the neighbours as Label Studio tasks (tasks.json + images/) into this folder.")
@workspace_option
@output_options
def similar_cmd(to: str, pool: str | None, k: int, origin: str, model: str | None, tag: str | None,
                label_studio: str | None, workspace: str | None, as_json: bool, quiet: bool) -> None:
    """The K nearest POOL rows of each sample in --to, by the built-in features or a model's embeddings
    (Lance's vector index for large pools): real samples to label that look like the failures."""
    import json

    from synth import api
    from synth.core.names import check_name
    from synth.loop.similar import export_label_studio, read_queries, similar

    ws = api.open_workspace(workspace)
    found = similar(ws, read_queries(ws, to), _version(pool), k=k, origin=origin, embeddings_model=model)
    result = {"neighbours": [n.as_dict() for n in found]}
    if tag:
        check_name(tag, "--tag")
        ids = sorted({n.sample_id for n in found})
        ws.fs.makedirs(ws.path("slices"), exist_ok=True)
        with ws.fs.open(ws.path("slices", f"{tag}.json"), "w") as fh:
            fh.write(json.dumps({"name": tag, "kind": "similar", "query": to, "sample_ids": ids}))
        result["tag"] = tag
    if label_studio:
        result["label_studio"] = str(export_label_studio(ws, found, label_studio))
    emit(result, lambda: "\n".join([f"{n.query}  #{n.rank}  {n.sample_id}  {n.distance:.3f}" for n in found[:40]]
                                   + [f"{len(found)} neighbours" + (f", saved as {tag}" if tag else "")
                                      + (f", Label Studio tasks in {label_studio}" if label_studio else "")]),
         as_json, quiet)


COMMANDS = [label_issues_cmd, similar_cmd]
