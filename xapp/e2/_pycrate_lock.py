"""The one lock around every use of pycrate in the process.

pycrate's compiled ASN.1 types are module-level singletons that keep the last value set or
decoded, and its PER codec switches aligned/unaligned mode through a class attribute
(``ASN1CodecPER.ALIGNED``) shared by all modules. So every ``set_val``/``to_aper``/
``from_aper``/``get_val`` sequence, in any codec (E2AP, E2SM-KPM, ...), must run while
holding :data:`PYCRATE_LOCK`. It is re-entrant so that a codec holding it can call another.
"""

from __future__ import annotations

import threading

PYCRATE_LOCK = threading.RLock()
