"""Review a recording frame by frame and mark ranges that training should leave out (excluded.csv)."""
