"""The store: content-addressed blobs, the Lance manifest and its versions, the workspace, commits,
hashing and fingerprints, verify, diff, and the label lineage as read at a version."""
