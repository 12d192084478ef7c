from tests.clamd import clamd  # noqa: F401 - the session's clamd, for the scanner tests
