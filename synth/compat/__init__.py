"""Small, isolated compatibility layers for third-party libraries (one module per library)."""
