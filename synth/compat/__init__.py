"""Small, isolated compatibility patches for third-party libraries (one module per library)."""
