"""The overrides of third-party internals: still hooked where they were written, same bytes as the originals."""
from __future__ import annotations

import numpy as np
import pytest
import socketio
from eventlet.websocket import RFC6455WebSocket

from pilot.drive.compat import _NumpyMaskWebSocket, missing_hooks, use_fast_websocket


@pytest.mark.parametrize("length", [0, 1, 3, 4, 5, 17, 4096, 25_001])
def test_numpy_unmask_equals_eventlets_for_every_length_and_offset(length):
    rng = np.random.default_rng(length)
    data = rng.integers(0, 256, length, dtype=np.uint8).tobytes()
    for offset in (0, 1, 2, 3, 4097):
        mask = tuple(int(value) for value in rng.integers(0, 256, 4))
        expected = RFC6455WebSocket._apply_mask(data, mask, length=length, offset=offset)
        assert _NumpyMaskWebSocket._apply_mask(data, mask, length=length, offset=offset) == expected


def test_fast_websocket_is_only_for_eventlet():
    with pytest.raises(ValueError, match="eventlet"):
        use_fast_websocket(socketio.Server(async_mode="threading"))


def test_every_private_hook_an_override_relies_on_is_still_there():
    problems = missing_hooks()
    assert not problems, " ".join(problems)
