"""The mempool: admission of signed transactions and their ordering for blocks.

Exceptions::

    MempoolError            refused on admission; ``reason`` is a short machine code
"""

from xinlian.mempool.pool import Mempool, MempoolError, decode_envelope

__all__ = ["Mempool", "MempoolError", "decode_envelope"]
