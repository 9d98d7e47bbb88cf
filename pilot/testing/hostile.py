"""Hostile clients on the simulator's raw wire: the drive server's fuzz.

`hostile_messages(count, seed, jpeg)` makes messages no simulator sends but a broken or
malicious client could: wrong JSON types, non-finite and culture-mangled numbers, truncated
and malformed JSON, truncated base64, non-JPEG and oversized images, unknown events, stray
Engine.IO packets and broken WebSocket frames. `run_fuzz` sends each one to a drive server,
then a valid telemetry, and checks that the valid one is answered with a well-formed `steer`
(two strings the simulator's float.Parse reads); a socket the server closes is counted and
reopened. Between the two, an engine ping `2<tag>` and its pong `3<tag>` mark where the
answers to the hostile message end (the server answers a socket's packets in order).
"""
from __future__ import annotations

import base64
import io
import json
import random
import struct
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np
import websocket
from PIL import Image

from pilot.sim.wire import SOCKET_PATH, WireError, event_packet, parse_event
from pilot.udacity.numbers import format_n4, read_culture_number

CATEGORIES = (
    "wrong types", "non-finite numbers", "culture-mangled numbers", "truncated JSON",
    "malformed JSON", "truncated base64", "non-JPEG images", "oversized images",
    "unknown events", "stray engine packets", "broken WebSocket frames",
)
FIELDS = ("steering_angle", "throttle", "speed")
CLOSED = (websocket.WebSocketConnectionClosedException, websocket.WebSocketProtocolException,
          ConnectionError, OSError)           # OSError: reset, broken pipe, bad descriptor


@dataclass(frozen=True)
class HostileMessage:
    """One thing a hostile client puts on the wire."""
    category: str
    payload: str | bytes
    kind: str = "text"          # text | binary | ping | close | bytes (written raw to the TCP socket)
    then_drop: bool = False     # the client dies right after sending it (nothing to wait for)


@dataclass
class FuzzReport:
    """What a fuzz run saw, by category of hostile message."""
    tried: Counter = field(default_factory=Counter)
    closed_by_server: Counter = field(default_factory=Counter)
    dropped_by_client: Counter = field(default_factory=Counter)     # then_drop, or a stalled socket
    stalled: Counter = field(default_factory=Counter)               # no pong: the fuzzer dropped it
    seconds: Counter = field(default_factory=Counter)               # wall time per category, both messages
    unanswered: int = 0                  # valid telemetries without a steer (timeout or closed)
    malformed_replies: int = 0           # valid telemetries answered with something not a steer
    safe_answers: int = 0                # valid telemetries answered with the safe command
    valid_sent: int = 0
    failures: list[str] = field(default_factory=list)              # the first few, described

    def note_failure(self, text: str) -> None:
        if len(self.failures) < 20:
            self.failures.append(text)


# ---------------------------------------------------------------- messages

def _jpeg_bytes(image: Image.Image, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **options)
    return buffer.getvalue()


def _image_bytes(image: Image.Image, image_format: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format)
    return buffer.getvalue()


def _with_dimensions(jpeg: bytes, width_px: int, height_px: int) -> bytes:
    """The same JPEG with its frame header (SOF0/SOF2) claiming another size."""
    for marker in (b"\xff\xc0", b"\xff\xc2"):
        start = jpeg.find(marker)
        if start >= 0:
            return jpeg[:start + 5] + struct.pack(">HH", height_px, width_px) + jpeg[start + 9:]
    raise ValueError("no JPEG frame header found")


class _Images:
    """Camera-sized and odd images made once from one valid camera JPEG."""

    def __init__(self, jpeg: bytes, rng: random.Random) -> None:
        with Image.open(io.BytesIO(jpeg)) as opened:
            camera = opened.convert("RGB")
        noise = Image.fromarray(np.random.default_rng(rng.randrange(2**32)).integers(
            0, 256, (800, 1600, 3), dtype=np.uint8))
        self.jpeg = jpeg
        self.not_jpeg = [
            _image_bytes(camera, "PNG"), _image_bytes(camera, "GIF"), _image_bytes(camera, "BMP"),
            _image_bytes(camera, "WEBP"), _image_bytes(camera, "TIFF"), b"", b"hello",
            b"\xff\xd8\xff", b"\xff\xd8\xff\xe0" + bytes(64), b"%PDF-1.4\n", jpeg[: len(jpeg) // 2],
            jpeg[2:], _jpeg_bytes(camera.resize((64, 32))), _jpeg_bytes(camera.resize((1, 1))),
            _jpeg_bytes(camera.resize((319, 160))), _jpeg_bytes(camera.resize((160, 320))),
            _jpeg_bytes(camera.resize((640, 320))),
        ]
        self.odd_but_camera_sized = [   # decode to 320x160 RGB: a real answer, not the safe one
            _jpeg_bytes(camera.convert("L")), _jpeg_bytes(camera.convert("CMYK")),
            _jpeg_bytes(camera, progressive=True), _jpeg_bytes(camera, quality=1),
            _jpeg_bytes(camera, quality=100, subsampling=0),
        ]
        self.oversized = [
            _with_dimensions(jpeg, 65_500, 65_500), _with_dimensions(jpeg, 12_000, 9_000),
            _with_dimensions(jpeg, 9_000, 9_000), _with_dimensions(jpeg, 4_000, 2_000),
            _with_dimensions(jpeg, 320, 65_500), _with_dimensions(jpeg, 0, 0),
            _jpeg_bytes(noise, quality=95), _jpeg_bytes(noise.resize((900, 450)), quality=90),
        ]

    def corrupted(self, rng: random.Random) -> bytes:
        """The camera JPEG with a few bytes after its header overwritten."""
        data = bytearray(self.jpeg)
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(200, len(data))] = rng.randrange(256)
        return bytes(data)


def _frame(opcode: int, data: bytes, fin: bool = True, rsv: int = 0, masked: bool = True) -> bytes:
    """One RFC 6455 frame with any header bits (websocket-client refuses the illegal ones)."""
    head = bytes([(0x80 if fin else 0) | (rsv & 7) << 4 | opcode & 0x0F])
    mask_bit = 0x80 if masked else 0
    if len(data) < 126:
        head += bytes([mask_bit | len(data)])
    elif len(data) < 65_536:
        head += bytes([mask_bit | 126]) + struct.pack(">H", len(data))
    else:
        head += bytes([mask_bit | 127]) + struct.pack(">Q", len(data))
    if not masked:
        return head + data
    key = bytes(random.getrandbits(8) for _ in range(4))
    body = (np.frombuffer(data, np.uint8) ^ np.resize(np.frombuffer(key, np.uint8), len(data))).tobytes()
    return head + key + body


TEXT, CONTINUATION, PING = 0x1, 0x0, 0x9


def _numbers(rng: random.Random, kind: str) -> str:
    if kind == "non-finite numbers":
        return rng.choice([
            "NaN", "nan", "-NaN", "Infinity", "-Infinity", "inf", "-inf", "1e400", "-1e999",
            "\u221e", "-\u221e", "1.#INF", "1.#QNAN", "NaN,0000", "Infinity.0000", "9" * rng.randint(310, 5000),
            "1" + "0" * rng.randint(309, 400) + ".0000", "nAn", "+inf", "1e309",
        ])
    value = rng.uniform(-2000, 2000)
    n4_dot, n4_comma = format_n4(value), format_n4(value, decimal_comma=True)
    return rng.choice([
        n4_dot, n4_comma, n4_dot.replace(",", "\u00a0"), n4_comma.replace(".", "\u202f"),
        n4_dot.replace(",", "'"), n4_dot.replace(".", ",,"), n4_dot + ",5", n4_comma + ".5",
        "1,2,3", "1..2", "1.2.3,4", "12,34.56,7", ",", ".", "-", "+", "", " ", "e5", "1e", "--1",
        "+-1", "1 2 3", "12abc", "0x1F", "1_000", "\u0663\u066b\u0665", "\uff11\uff12",
        "\u00a0", "\u22121,5000", "1e-400", f"{value:.4e}".replace(".", ","), "0," + "0" * 4000 + "1",
        n4_dot.replace("-", "\u2212"), "\t" + n4_dot + "\n", n4_dot[::-1],
    ])


def _message(category: str, rng: random.Random, good: dict, packet: str, images: _Images) -> HostileMessage:
    """One hostile message of `category`, chosen with `rng`."""
    def telemetry(**changes: object) -> str:
        return event_packet("telemetry", {**good, **changes})

    def base64_of(data: bytes) -> str:
        return base64.b64encode(data).decode("ascii")

    if category == "wrong types":
        wrong = rng.choice([5.0, 0, -1, True, False, None, [], {}, [1, 2], {"a": 1}, 10**30, 1e308,
                            list(images.jpeg[:16]), [good["speed"]]])
        choice = rng.randrange(6)
        if choice == 0:
            return HostileMessage(category, telemetry(**{rng.choice((*FIELDS, "image")): wrong}))
        if choice == 1:
            return HostileMessage(category, event_packet("telemetry",
                                                         rng.choice(["text", 5, None, True, [good], [[]], wrong])))
        if choice == 2:
            return HostileMessage(category, "42" + json.dumps(rng.choice([
                ["telemetry"], ["telemetry", good, good], ["telemetry", good, 5], [5, good], [None, good],
                [["telemetry"], good], [{"telemetry": good}], [], [[]]])))
        if choice == 3:
            return HostileMessage(category, "42" + json.dumps(rng.choice(
                [{"telemetry": good}, "telemetry", 42, None, True, good])))
        if choice == 4:
            renamed = {key.upper() if rng.random() < 0.5 else key.capitalize(): value
                       for key, value in good.items()}
            return HostileMessage(category, event_packet("telemetry", renamed))
        missing = dict(good)
        for key in rng.sample(list(good), rng.randint(1, len(good))):
            del missing[key]
        return HostileMessage(category, event_packet("telemetry", missing or {"other": 1}))

    if category in ("non-finite numbers", "culture-mangled numbers"):
        changes = {name: _numbers(rng, category) for name in rng.sample(FIELDS, rng.randint(1, 3))}
        return HostileMessage(category, telemetry(**changes))

    if category == "truncated JSON":
        cut = rng.choice([rng.randint(1, 120), rng.randint(1, len(packet) - 1), len(packet) - rng.randint(1, 4)])
        return HostileMessage(category, packet[:cut])

    if category == "malformed JSON":
        depth = rng.choice([100, 1_000, 10_000, 100_000])
        return HostileMessage(category, rng.choice([
            '42["telemetry",' + "[" * depth + "]" * depth + "]",
            '42["telemetry",' + '{"a":' * depth + "1" + "}" * depth + "]",
            packet + "garbage", packet + packet, packet[:2] + " " + packet[2:], "\ufeff" + packet,
            packet.replace('"', "'"), packet.replace(":", "=", 1), packet[2:], "4" + packet[2:],
            packet.replace('"speed":"', '"speed":NaN,"x":"'), packet.replace("]", "", 1) + "}",
            '42["telemetry",{"speed":"1",/*comment*/"image":""}]', '42["telemetry",{"speed":"1",}]',
            "42" + "\x00" * rng.randint(1, 50), '42["telemetry",{"\\ud800":"\\udfff"}]',
        ]))

    if category == "truncated base64":
        text = good["image"]
        choice = rng.randrange(7)
        if choice == 0:
            image = text[:rng.randint(0, len(text) - 1)]
        elif choice == 1:
            image = base64_of(images.jpeg[:rng.randint(1, len(images.jpeg) - 1)])
        elif choice == 2:
            position = rng.randrange(len(text))
            image = text[:position] + rng.choice("!* \n\t-_=.\u00e9") + text[position:]
        elif choice == 3:
            image = text.rstrip("=") if text.endswith("=") else text + "="
        elif choice == 4:
            image = base64.urlsafe_b64encode(images.jpeg).decode("ascii")
        elif choice == 5:
            image = "data:image/jpeg;base64," + text
        else:
            image = text[: len(text) // 2] + "==" + text[len(text) // 2:]
        return HostileMessage(category, telemetry(image=image))

    if category == "non-JPEG images":
        pool = rng.choice([images.not_jpeg, images.odd_but_camera_sized, [images.corrupted(rng)]])
        return HostileMessage(category, telemetry(image=base64_of(rng.choice(pool))))

    if category == "oversized images":
        choice = rng.randrange(3)
        if choice == 0:
            return HostileMessage(category, telemetry(image=base64_of(rng.choice(images.oversized))))
        if choice == 1:
            return HostileMessage(category, telemetry(pad="x" * rng.choice([500_001, 1_000_000, 2_100_000])))
        return HostileMessage(category, telemetry(image=good["image"] * rng.choice([16, 40, 80])))

    if category == "unknown events":
        name = rng.choice(["steer", "manual", "connect", "disconnect", "message", "", "telemetry ",
                           "TELEMETRY", "t\u00e9l\u00e9m\u00e9trie", "__proto__", "x" * 1000, "error", "ping"])
        body = json.dumps(["telemetry", good], separators=(",", ":"))
        return HostileMessage(category, rng.choice([
            event_packet(name, good), event_packet(name, {}), event_packet(name),
            "42/admin," + body, "42/," + body, "42/admin" + body, "421" + body, "42" + "9" * 30 + body,
            "43" + "1" + json.dumps([good]), "40/admin,", "41", "41/admin,", "44", '44{"message":"x"}',
            '451-["telemetry",{"_placeholder":true,"num":0}]',
            '452-["telemetry",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]',
            '461-[{"_placeholder":true,"num":0}]', "47", "4-1" + body,
        ]))

    if category == "stray engine packets":
        return HostileMessage(category, rng.choice([
            "0", '0{"sid":"x"}', "1", "2", "2probe", "3", "3probe", "5", "6", "7", "8", "9", "4",
            "4x", "b4AAAA", "2" * 100, "3" * rng.randint(1, 1000), "6" + "x" * rng.randint(1, 100),
            "5" + packet, "\x00", rng.choice("abcdefghijklmnopqrstuvwxyz"), "",
        ]))

    # broken WebSocket frames
    data = packet.encode()
    choice = rng.randrange(12)
    if choice == 0:
        return HostileMessage(category, data, kind="binary")
    if choice == 1:
        return HostileMessage(category, b'42["telemetry",' + bytes([rng.choice([0xff, 0xfe, 0xc0, 0x80])]) + b"]",
                              kind="bytes_text")
    if choice == 2:
        return HostileMessage(category, rng.choice([b"", b"x" * 125]), kind="ping")
    if choice == 3:
        return HostileMessage(category, rng.choice([struct.pack(">H", 1000), struct.pack(">H", 4999) + b"?",
                                                    struct.pack(">H", 1000) + b"\xff\xfe", b"\x03", b""]),
                              kind="close")
    if choice == 4:     # a fragmented valid telemetry: legal, and answered
        split = rng.randint(1, len(data) - 1)
        frames = _frame(TEXT, data[:split], fin=False) + _frame(CONTINUATION, data[split:])
        return HostileMessage(category, frames, kind="bytes")
    if choice == 5:     # a continuation with no start
        return HostileMessage(category, _frame(CONTINUATION, data), kind="bytes")
    if choice == 6:     # unmasked (a server's frame, from a client)
        return HostileMessage(category, _frame(TEXT, data, masked=False), kind="bytes")
    if choice == 7:     # reserved bits or opcodes
        return HostileMessage(category, _frame(rng.choice([TEXT, 0x3, 0x7, 0xB]), data[:200],
                                               rsv=rng.randint(0, 7)), kind="bytes")
    if choice == 8:     # a control frame over 125 bytes
        return HostileMessage(category, _frame(PING, b"p" * 200), kind="bytes")
    if choice == 9:     # a frame whose header promises more than is sent, then the client dies
        frame = _frame(TEXT, data)
        return HostileMessage(category, frame[:rng.randint(1, len(frame) - 1)], kind="bytes", then_drop=True)
    if choice == 10:    # a length field of 2**63 - 1
        return HostileMessage(category, b"\x81\xff" + struct.pack(">Q", 2**63 - 1) + b"\x00" * 4, kind="bytes",
                              then_drop=True)
    return HostileMessage(category, bytes(rng.randrange(256) for _ in range(rng.randint(1, 64))), kind="bytes",
                          then_drop=True)


def valid_payload(packet: str) -> dict:
    """The telemetry object inside a `42["telemetry",{...}]` packet."""
    return json.loads(packet[2:])[1]


def hostile_messages(count: int, seed: int, packet: str) -> list[HostileMessage]:
    """`count` hostile messages, categories in turn (shuffled), all derived from one valid telemetry packet."""
    rng = random.Random(seed)
    good = valid_payload(packet)
    images = _Images(base64.b64decode(good["image"]), rng)
    categories = [CATEGORIES[index % len(CATEGORIES)] for index in range(count)]
    rng.shuffle(categories)
    return [_message(category, rng, good, packet, images) for category in categories]


# ---------------------------------------------------------------- the wire

class _Socket:
    """A raw WebSocket to a drive server that can send anything and reads engine-level frames."""

    def __init__(self, host: str, port: int, timeout_s: float) -> None:
        self.ws = websocket.create_connection(f"ws://{host}:{port}{SOCKET_PATH}", timeout=timeout_s)
        self.ws.settimeout(timeout_s)
        self.next_frame(timeout_s)      # the open packet `0{...}`

    def send(self, message: HostileMessage) -> None:
        if message.kind == "text":
            self.ws.send(message.payload)
        elif message.kind == "binary":
            self.ws.send_binary(message.payload)
        elif message.kind == "ping":
            self.ws.ping(message.payload)
        elif message.kind == "close":
            self.ws.send(message.payload, websocket.ABNF.OPCODE_CLOSE)
        elif message.kind == "bytes_text":
            self.ws.sock.sendall(_frame(TEXT, message.payload))
        else:
            self.ws.sock.sendall(message.payload)

    def next_frame(self, timeout_s: float) -> str:
        """The next text frame; answers the server's engine pings on the way."""
        self.ws.settimeout(timeout_s)
        while True:
            frame = self.ws.recv()
            if frame == "2":
                self.ws.send("3")
            elif isinstance(frame, str) and frame:
                if frame.startswith("1"):
                    raise websocket.WebSocketConnectionClosedException("engine close packet")
                return frame

    def close(self) -> None:
        """Drop the TCP connection (a fuzzer does not say goodbye)."""
        if self.ws.sock is not None:
            try:
                self.ws.sock.close()
            except OSError:
                pass


def steer_problem(frame: str) -> str | None:
    """Why `frame` is not a well-formed `steer` event (two numeric strings); None if it is."""
    if not frame.startswith("42"):
        return f"not an event: {frame[:60]!r}"
    try:
        name, data = parse_event(frame[2:])                 # what the simulator's parser accepts
    except WireError as exc:
        return str(exc)
    if name != "steer" or data is None:
        return f"not [\"steer\", {{...}}]: {frame[:60]!r}"
    if set(data) != {"steering_angle", "throttle"} or not all(isinstance(v, str) for v in data.values()):
        return f"steer needs two strings, got {data!r}"
    try:
        steering = read_culture_number(data["steering_angle"])[0]
        read_culture_number(data["throttle"])
    except ValueError as exc:
        return f"steer value unreadable: {exc}"
    if not -1.0 <= steering <= 1.0:
        return f"steering {steering} outside -1..1"
    return None


def _is_safe(frame: str) -> bool:
    data = json.loads(frame[2:])[1]
    return all(read_culture_number(value)[0] == 0.0 for value in data.values())


def run_fuzz(host: str, port: int, messages: list[HostileMessage], packet: str,
             timeout_s: float = 10.0, sync_timeout_s: float = 5.0,
             on_case: Callable[[int, FuzzReport], None] | None = None) -> FuzzReport:
    """Each hostile message, then one valid telemetry `packet`: is the valid one answered?

    Raises ConnectionError if the server cannot be reached at all (it has exited).
    """
    report = FuzzReport()
    connection: _Socket | None = None

    def reopen() -> _Socket:
        nonlocal connection
        if connection is not None:
            connection.close()
        try:
            connection = _Socket(host, port, timeout_s)
        except (websocket.WebSocketException, OSError) as exc:
            raise ConnectionError(f"the drive server at {host}:{port} takes no new connection: {exc}") from exc
        return connection

    for index, message in enumerate(messages):
        report.tried[message.category] += 1
        started_s = time.perf_counter()
        sock = connection or reopen()
        try:
            sock.send(message)
            if message.then_drop:
                report.dropped_by_client[message.category] += 1
                reopen()
            else:
                tag = f"fuzz{index}"
                sock.send(HostileMessage("sync", "2" + tag))
                deadline = time.monotonic() + sync_timeout_s
                while sock.next_frame(max(deadline - time.monotonic(), 0.01)) != "3" + tag:
                    pass
        except websocket.WebSocketTimeoutException:
            report.stalled[message.category] += 1
            reopen()
        except CLOSED:
            report.closed_by_server[message.category] += 1
            reopen()
        report.valid_sent += 1
        try:
            connection.send(HostileMessage("valid", packet))
            frame = connection.next_frame(timeout_s)
        except websocket.WebSocketTimeoutException:
            report.unanswered += 1
            report.note_failure(f"case {index} ({message.category}): no answer in {timeout_s:g} s "
                                f"after {str(message.payload)[:80]!r}")
            reopen()
        except CLOSED as exc:
            report.unanswered += 1
            report.closed_by_server[message.category] += 1
            report.note_failure(f"case {index} ({message.category}): closed instead of answering ({exc}) "
                                f"after {str(message.payload)[:80]!r}")
            reopen()
        else:
            problem = steer_problem(frame)
            if problem:
                report.malformed_replies += 1
                report.note_failure(f"case {index} ({message.category}): {problem}")
            elif _is_safe(frame):
                report.safe_answers += 1
                report.note_failure(f"case {index} ({message.category}): the valid telemetry got the safe "
                                    f"command after {str(message.payload)[:80]!r}")
        report.seconds[message.category] += time.perf_counter() - started_s
        if on_case:
            on_case(index, report)
    if connection is not None:
        connection.close()
    return report


def iter_categories(report: FuzzReport) -> Iterator[tuple[str, int, int, int, int, float]]:
    """(category, tried, closed by the server, stalled, dropped by the client, ms per case) per category."""
    for category in CATEGORIES:
        tried = report.tried[category]
        yield (category, tried, report.closed_by_server[category], report.stalled[category],
               report.dropped_by_client[category], 1000.0 * report.seconds[category] / max(tried, 1))
