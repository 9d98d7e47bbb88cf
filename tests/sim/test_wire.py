"""The simulator-like wire client against a hand-written loopback server."""
from __future__ import annotations

import base64
import json
import socket

import pytest

from pilot.sim.wire import SOCKET_PATH, SimulatorWire, WireError, WireTimeout, parse_event
from pilot.udacity.numbers import format_n4, read_culture_number

from .conftest import steer_packet


@pytest.mark.parametrize("value, comma, text", [
    (-1.23456, False, "-1.2346"), (0.3, False, "0.3000"), (12.3456, False, "12.3456"),
    (12.3, True, "12,3000"), (-25.0, True, "-25,0000"), (1234.5, False, "1,234.5000"),
    (1234.5, True, "1.234,5000"), (-0.00001, False, "0.0000"), (0.0, True, "0,0000"),
])
def test_format_n4_matches_csharp(value: float, comma: bool, text: str) -> None:
    assert format_n4(value, comma) == text


@pytest.mark.parametrize("text, value", [
    ("0.12", 0.12), ("0,12", 0.12), ("-1.2346", -1.2346), ("-25,0000", -25.0), (" 3 ", 3.0),
    ("1,234.5000", 1234.5), ("1.234,5000", 1234.5), ("7.843922E-05", 7.843922e-05),
    ("7,843922E-05", 7.843922e-05), ("+.5", 0.5), ("1.234.567", 1234567.0),
])
def test_parse_simulator_float_reads_both_cultures(text: str, value: float) -> None:
    assert read_culture_number(text)[0] == pytest.approx(value)


@pytest.mark.parametrize("text", ["", "abc", "nan", "inf", "1_000", "1.2.3,4,5", "--1"])
def test_parse_simulator_float_rejects_garbage(text: str) -> None:
    with pytest.raises(ValueError):
        read_culture_number(text)[0]


def test_parse_event_accepts_only_the_simulators_shapes() -> None:
    assert parse_event('["manual"]') == ("manual", None)
    assert parse_event('["steer",{"steering_angle":"0.1"}]') == ("steer", {"steering_angle": "0.1"})
    for bad in ('["steer",1]', '{"a":1}', '["steer",{},{}]', "[1]", "not json"):
        with pytest.raises(WireError):
            parse_event(bad)


def test_wire_speaks_the_simulators_protocol(protocol_server) -> None:
    seen: list[dict] = []

    def reply(data: dict) -> list[str]:
        seen.append(data)
        return ["40", "6", steer_packet("0,25", "0,5")] if data else ['42["manual",{}]']

    server = protocol_server(reply, ping_first=True)
    with SimulatorWire("127.0.0.1", server.port, decimal_comma=True) as wire:
        info = wire.connect()
        assert info["sid"] == "test"
        wire.send_telemetry(-1.5, 0.3, 12.34567, b"\xff\xd8jpeg")
        assert wire.receive_event() == ("steer", {"steering_angle": "0,25", "throttle": "0,5"})
        wire.send_manual()
        assert wire.receive_event() == ("manual", {})
        wire.ping()
        wire.send_manual()
        assert wire.receive_event()[0] == "manual"
        assert wire.pings_answered == 1
    assert server.paths == [SOCKET_PATH]
    assert seen[0] == {"steering_angle": "-1,5000", "throttle": "0,3000", "speed": "12,3457",
                       "image": base64.b64encode(b"\xff\xd8jpeg").decode()}
    assert seen[1] == {}
    assert server.received[1] == "3"                      # answered the server's ping
    assert "2" in server.received                          # its own engine ping
    assert not any(text.startswith("40") for text in server.received)  # never a namespace connect
    first = json.loads(server.received[0][2:])
    assert all(isinstance(value, str) for value in first[1].values())


def test_wire_reports_a_silent_server_and_a_missing_one(protocol_server) -> None:
    server = protocol_server(lambda data: [])
    with SimulatorWire("127.0.0.1", server.port, timeout_s=0.3) as wire:
        wire.connect()
        wire.send_telemetry(0.0, 0.0, 0.0, b"x")
        with pytest.raises(WireTimeout):
            wire.receive_event()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    with pytest.raises(WireError, match="cannot connect"):
        SimulatorWire("127.0.0.1", free_port, timeout_s=1.0).connect()


def test_wire_rejects_an_event_the_simulator_could_not_parse(protocol_server) -> None:
    server = protocol_server(lambda data: ['42["steer",{"steering_angle":"0"},"extra"]'])
    with SimulatorWire("127.0.0.1", server.port) as wire:
        wire.connect()
        wire.send_telemetry(0.0, 0.0, 0.0, b"x")
        with pytest.raises(WireError, match="cannot read"):
            wire.receive_event()
