"""The node: configuration, keys, the chain service, the runtime and metrics.

``Node`` (in :mod:`xinlian.node.runtime`) is what ``xinlian node start`` runs; the API layer
serves it. Creating a network (genesis, keys, node homes) lives in
:mod:`xinlian.node.network`.
"""
