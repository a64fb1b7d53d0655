"""Layer 1, core maths and plumbing: losses, penalties, certificates, the one-weight problem,
conventions, validation, execution (joblib/Dask), memory estimates and file I/O.

Nothing here imports from any other regulab layer (checked by the import contract in
``pyproject.toml``)."""
