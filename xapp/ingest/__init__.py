"""From RIC indications to per-UE windows of model features.

- :mod:`xapp.ingest.decode`: RIC indication -> E2SM-KPM per-UE values or E2SM-CSI reports.
- :mod:`xapp.ingest.cells`: how each report's antennas/subbands (CellContext) are known.
- :mod:`xapp.ingest.windows`: the per-UE window store in the model's feature layout.
- :mod:`xapp.ingest.pipeline`: one indication in, windows and report metadata updated.
- :mod:`xapp.ingest.kpm_worker`: E2SM-KPM decoded in a worker process, off the CSI path.
- :mod:`xapp.ingest.bad_inputs`: refused inputs counted per reason, logged rate-limited.
"""
