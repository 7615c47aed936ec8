"""Exporters: one module per client format (COCO, YOLO, Hugging Face, WebDataset, CSV/Parquet/JSONL, audio),
each from manifest rows plus a blob getter, and the dispatcher that reads a version for them."""
