"""GS1 standards as a pure library: identifiers, EPCIS 2.0 validation and the CBV event hash.

It imports nothing of Xinlian, so the ``trace`` app, the API and the SDK all use the same
code (the SDK computes the hashes it signs; the node recomputes them).
"""
