"""python -m pilot.review as a user runs it: starts on a real port, and bad input gets one sentence."""
import json
import socket
import urllib.request

from tests.recordings import frame_name_stamp, straight_values, write_recording
from tests.review.review_server import review_server, run_review


def one_sentence_exit_2(result, words):
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("review: ") and words in lines[0], result.stderr


def test_serves_the_recording_and_stops_on_ctrl_c(tmp_path):
    folder = tmp_path / "laps"
    write_recording(folder, straight_values(5))
    (folder / "excluded.csv").write_text(f"{frame_name_stamp(0)},{frame_name_stamp(9)}\n")
    with review_server(folder) as (url, printed):
        with urllib.request.urlopen(url + "api/recording", timeout=10) as response:
            assert json.load(response)["frame_count"] == 5
    assert printed[0] == f"review: {folder / 'excluded.csv'} line 1: has 2 fields instead of 3 " \
                         "(first_time, last_time, reason); that line is ignored."
    assert printed[1].startswith("review: laps: 5 frames read in ")


def test_a_folder_that_is_not_a_recording_gets_one_sentence(tmp_path):
    one_sentence_exit_2(run_review([str(tmp_path)]), "has no driving_log.csv")
    one_sentence_exit_2(run_review([str(tmp_path / "missing")]), "does not exist")


def test_a_port_in_use_gets_one_sentence(tmp_path):
    write_recording(tmp_path, straight_values(2))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        one_sentence_exit_2(run_review([str(tmp_path), "--port", str(port)]), f"port {port} on 127.0.0.1 is in use")
