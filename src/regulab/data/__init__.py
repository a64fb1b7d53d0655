"""Layer 3, data: reading tables (CSV/TSV/Parquet), preparing them for a fit, the built-in and
simulated datasets, and model files. Beside :mod:`regulab.selection`, on top of :mod:`regulab.core`.

Modules: :mod:`~regulab.data.reading` (files -> checked tables), :mod:`~regulab.data.prepare`
(tables -> design matrices), :mod:`~regulab.data.datasets`, :mod:`~regulab.data.simulate`,
:mod:`~regulab.data.model_io`."""
