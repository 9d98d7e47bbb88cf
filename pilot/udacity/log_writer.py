"""Write a recording exactly as the simulator does: driving_log.csv (no header) and IMG/.

Rows are `center,left,right,steering,throttle,brake,speed`, image paths absolute as on
the recording machine (Windows-style by default, spaces and all, never quoted), numbers
in C#'s default float format, file names `center_yyyy_MM_dd_HH_mm_ss_fff.jpg` from a
fixed start time so the same params give the same bytes.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from pilot.udacity.frame_time import format_stamp
from pilot.udacity.numbers import format_csharp_float
from pilot.udacity.simulator import CAMERAS, DRIVING_LOG_NAME, IMAGE_DIR_NAME

WINDOWS_ROOT = r"C:\Users\sim\Desktop\sim run"
POSIX_ROOT = "/home/sim/sim run"
PATH_STYLES = ("windows", "posix", "relative")

class RecordingWriter:
    """Appends frames to `<out_dir>/driving_log.csv` and `<out_dir>/IMG/` as the simulator would."""

    def __init__(self, out_dir: str | Path, start_time: datetime, path_style: str = "windows",
                 decimal_comma: bool = False) -> None:
        if path_style not in PATH_STYLES:
            raise ValueError(f"path_style must be one of {', '.join(PATH_STYLES)}, not {path_style!r}")
        self.out_dir = Path(out_dir)
        self.image_dir = self.out_dir / IMAGE_DIR_NAME
        self.image_dir.mkdir(parents=True, exist_ok=True)
        self.start_time = start_time
        self.path_style = path_style
        self.decimal_comma = decimal_comma
        self.rows = 0
        self._log = (self.out_dir / DRIVING_LOG_NAME).open("w", encoding="utf-8", newline="")

    def image_path_text(self, file_name: str) -> str:
        """How the CSV names an image: as on the (imaginary) recording machine."""
        if self.path_style == "windows":
            return f"{WINDOWS_ROOT}\\IMG\\{file_name}"
        if self.path_style == "posix":
            return f"{POSIX_ROOT}/IMG/{file_name}"
        return f"IMG/{file_name}"

    def write(self, time_s: float, jpegs: dict[str, bytes], steering: float, throttle: float,
              brake: float, speed_mph: float) -> str:
        """Write one row and its three JPEGs, `time_s` after the start; returns the frame stamp."""
        stamp = format_stamp(self.start_time + timedelta(milliseconds=round(time_s * 1000)))
        paths = []
        for camera in CAMERAS:
            file_name = f"{camera}_{stamp}.jpg"
            (self.image_dir / file_name).write_bytes(jpegs[camera])
            paths.append(self.image_path_text(file_name))
        numbers = [format_csharp_float(v, self.decimal_comma) for v in (steering, throttle, brake, speed_mph)]
        self._log.write(",".join(paths + numbers) + "\n")
        self.rows += 1
        return stamp

    def close(self) -> None:
        self._log.close()

    def __enter__(self) -> "RecordingWriter":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
