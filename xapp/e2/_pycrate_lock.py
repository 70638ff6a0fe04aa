"""The one lock that serialises every use of pycrate's compiled ASN.1 objects.

pycrate compiles each ASN.1 type into a single module-level object that holds the value
being encoded or decoded (``set_val``/``to_aper``/``from_aper``/``get_val`` mutate it), and
its PER codec keeps its alignment flag and bit-offset stack in class attributes shared by
every module. Two threads encoding at once therefore corrupt each other's messages, even
across different ASN.1 modules (E2AP and E2SM-KPM). Every codec that touches pycrate holds
``PYCRATE_LOCK`` for a whole set/encode/decode/get sequence. It is re-entrant so that a
codec may call another (E2AP wrapping a KPM payload) while holding it.
"""

from __future__ import annotations

import threading

PYCRATE_LOCK = threading.RLock()
