"""The headless driving simulator: track, vehicle, camera, expert, recorder and the closed-loop client."""
