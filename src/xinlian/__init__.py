"""Xinlian (信链): a consortium blockchain platform in Python.

The package is layered; each sub-package imports only those below it:

    cli, api              people and programs talking to a node
    node                  composition root: config, lifecycle, wiring
    consensus             agreement on blocks (development producer today)
    mempool, execution    admission and running of transactions
    apps                  built-in system applications (governance, kv, ...)
    ledger, state         block store and authenticated state
    storage, crypto       key-value backends, crypto suites and Merkle proofs
    codec                 canonical bytes
    types                 frozen data records

``xinlian.sdk`` is the client library and depends on types, codec and crypto only.
"""

__version__ = "0.1.0"
