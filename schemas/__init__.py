"""The project's contracts: protobuf files, the E2SM-KPM ASN.1 subset and JSON schemas.

Generated code lives beside its source (``*_pb2.py`` next to ``*.proto``,
``e2sm_kpm_asn.py`` next to ``e2sm_kpm.asn``); regenerate with ``python -m schemas.build``.
"""

from pathlib import Path

SCHEMAS_DIR = Path(__file__).resolve().parent
