"""What one visitor, and all visitors of one server copy together, may make the server hold.

The numbers, why they are what they are, and the memory budget they add up to (from which
deploy/digitlab@.service's MemoryMax is derived) are in docs/bounds.md. Where each bound is
enforced:

- a model file's size and parameter count: nn.modelfile (MAX_FILE_BYTES, MAX_PARAMS);
- networks a tab holds beyond the shipped ones: ui.state.add_network (MAX_TAB_NETWORKS;
  the oldest is dropped, with a note);
- networks all tabs of this copy hold: `LEDGER` below (an upload is refused while the
  copy's uploaded and trained networks weigh COPY_NETWORK_BYTES);
- upload bytes Streamlit keeps per session and per copy: ui.compat.bound_upload_store;
- the pixels a drawing sent by a client may decode to: MAX_IMAGE_PIXELS (PIL refuses an
  image of more than twice that: the canvas is 280 x 280, a crafted PNG of 12,000 x 12,000
  would decode to 576 MB); the websocket message size: .streamlit/config.toml;
- the server CPU an uploaded network's analysis may take: ANALYSE_MAX_PARAMS (accuracy on
  load and "What it gets wrong" run in the server only for networks up to that size).
"""

from __future__ import annotations

import threading
import weakref

from nn.modelfile import MAX_FILE_BYTES

MB = 2**20

MAX_TAB_NETWORKS = 4  # uploaded, trained and taught networks one tab keeps
COPY_NETWORK_BYTES = 160 * MB  # all tabs' uploaded + trained + taught networks, one copy
SESSION_UPLOAD_FILES = 2  # upload bytes Streamlit keeps per session: files ...
SESSION_UPLOAD_BYTES = MAX_FILE_BYTES  # ... and bytes (one largest file)
COPY_UPLOAD_BYTES = 64 * MB  # upload bytes Streamlit keeps for all sessions of one copy
ANALYSE_MAX_PARAMS = 800_000  # confusion matrix / accuracy in the server: ~0.2 s of CPU
MAX_IMAGE_PIXELS = 1_000_000  # PIL.Image.MAX_IMAGE_PIXELS in the page server
SWEEP_SECONDS = 5.0  # how often ended sessions are looked for (ui.compat)


def network_bytes(net) -> int:
    return sum(p.nbytes for p in net.params)


class NetworkLedger:
    """The bytes of the networks this copy's tabs hold (shipped ones excepted).

    A network is counted from `add` until it is garbage-collected (a weakref finalizer),
    i.e. until the tab that held it has dropped it or has ended.
    """

    def __init__(self, limit: int):
        self.limit = limit
        self._lock = threading.Lock()
        self._held: dict[int, int] = {}  # id(net) -> bytes

    @property
    def used(self) -> int:
        with self._lock:
            return sum(self._held.values())

    def fits(self, net) -> bool:
        """Whether adding `net` keeps the copy within its limit."""
        with self._lock:
            if id(net) in self._held:
                return True
            return sum(self._held.values()) + network_bytes(net) <= self.limit

    def add(self, net) -> None:
        """Count `net` (once, however often it is added) until it is collected."""
        key, size = id(net), network_bytes(net)
        with self._lock:
            if key in self._held:
                return
            self._held[key] = size
        weakref.finalize(net, self._release, key)

    def _release(self, key: int) -> None:
        with self._lock:
            self._held.pop(key, None)


LEDGER = NetworkLedger(COPY_NETWORK_BYTES)


# --- the copy's memory budget (docs/bounds.md; deploy/digitlab@.service is derived from it) --

BUDGET_TABS = 100  # tabs one copy is sized for (it answers about 80 drawing visitors)
SERVER_BYTES = 210 * MB  # the server with its imports, MNIST's test split and caches
SESSION_BYTES = 1 * MB  # one tab's session: page elements, the drawing, widget states
TRAINED_NETWORK_BYTES = 4 * ((784 + 1) * 200 + (200 + 1) * 10)  # the largest trainable one
IN_FLIGHT_BYTES = 2 * 32 * MB  # uploads and messages being received at once
WORKERS_BYTES = 100 * MB + 53 * MB  # one training worker and the workers' MNIST copy
# ui.neurons caches the weight pictures of 6 networks; a [784, 2000, 10] one's are 22.4 MB.
PANEL_CACHE_BYTES = 6 * 23 * MB


def copy_budget(tabs: int = BUDGET_TABS) -> int:
    """Bytes one copy may hold with `tabs` tabs, each at its bounds (docs/bounds.md)."""
    return (
        SERVER_BYTES
        + COPY_NETWORK_BYTES
        + tabs * (MAX_TAB_NETWORKS * TRAINED_NETWORK_BYTES + SESSION_BYTES)
        + COPY_UPLOAD_BYTES
        + IN_FLIGHT_BYTES
        + WORKERS_BYTES
        + PANEL_CACHE_BYTES
    )
