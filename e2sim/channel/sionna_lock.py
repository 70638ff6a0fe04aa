"""One process-wide lock around Sionna's global seed and the draws that read it.

Sionna's random generators follow ``sionna.phy.config.seed``, a process-wide setting; a drop
reseeds it and then draws. Holding this lock from the reseed until the draw returns keeps
drops stepped in parallel threads from reseeding under each other's draws.
"""

import threading

SIONNA_SEED_LOCK = threading.RLock()
