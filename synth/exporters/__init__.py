"""Exporters: one module per client format (COCO, YOLO, Hugging Face with typed features, WebDataset,
CSV/Parquet/JSONL, audio, OCR word formats), each from manifest rows plus a blob getter, and the dispatcher
that reads a version for them."""
