"""The connexc version, the single place it is written."""

VERSION = "0.1.0"
