"""Exporters from manifest rows (pyarrow table) plus a blob getter to client formats: COCO, YOLO."""
