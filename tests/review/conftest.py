"""The page tests' headless Chromium."""
from tests.browser import browser  # noqa: F401  (a pytest fixture, used by name)
