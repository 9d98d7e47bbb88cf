"""The Udacity simulator's formats and facts, in one place.

- `simulator`: camera names, image size, the 25° steering limit, the 30 mph cap, mph <-> m/s.
- `numbers`: numbers as the simulator writes and reads them in any culture (N4, C# floats).
- `log_reader`: reading `driving_log.csv` + `IMG/` in every real variant.
- `log_writer`: writing a recording exactly as the simulator does.
"""
