"""Layer 3, data: reading tables (CSV/TSV/Parquet), preparing them for a fit, the built-in and
simulated datasets, and model files. Beside :mod:`regulab.selection`, on top of :mod:`regulab.core`.

Files -> checked tables: :mod:`~regulab.data.reading` (:func:`read_table`, :func:`load_input`),
reading :mod:`~regulab.data.delimited` text (format from :mod:`~regulab.data.sniffing`, the
whole-file pass in :mod:`~regulab.data.scanning`) and :mod:`~regulab.data.parquet`; the checks
that refuse up front in :mod:`~regulab.data.checks`, the wording of messages in
:mod:`~regulab.data.messages`, safe CSV output in :mod:`~regulab.data.csv_output`.

Tables -> design matrices: :func:`regulab.data.prepare.prepare`, a pipeline over
:mod:`~regulab.data.target`, :mod:`~regulab.data.missing`, :mod:`~regulab.data.columns` (with
:mod:`~regulab.data.values`), :mod:`~regulab.data.encoding` and :mod:`~regulab.data.standardize`,
recorded in :mod:`~regulab.data.prep_report`, giving a :class:`~regulab.data.prepared.Prepared`.

Also :mod:`~regulab.data.datasets`, :mod:`~regulab.data.simulate`, :mod:`~regulab.data.model_io`;
the one exception is :class:`~regulab.data.errors.DataError`."""
