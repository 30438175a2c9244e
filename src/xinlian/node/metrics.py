"""Prometheus metrics of one node (a registry per node, so tests can run several)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class NodeMetrics:
    """Counters, gauges and histograms exposed at ``/metrics``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.height = Gauge("xinlian_height", "Latest committed block height", registry=r)
        self.blocks = Counter("xinlian_blocks_committed", "Blocks committed", registry=r)
        self.txs_committed = Counter("xinlian_txs_committed", "Transactions committed", registry=r)
        self.txs_failed = Counter(
            "xinlian_txs_failed", "Committed transactions whose call failed", registry=r
        )
        self.txs_admitted = Counter(
            "xinlian_txs_admitted", "Transactions admitted to the mempool", registry=r
        )
        self.txs_rejected = Counter(
            "xinlian_txs_rejected", "Transactions refused on admission", ["reason"], registry=r
        )
        self.mempool_size = Gauge("xinlian_mempool_size", "Pending transactions", registry=r)
        self.block_seconds = Histogram(
            "xinlian_block_commit_seconds",
            "Time to build, execute and commit a block",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=r,
        )
        self.block_txs = Histogram(
            "xinlian_block_txs",
            "Transactions per block",
            buckets=(0, 1, 10, 100, 1000, 5000, 10000, 20000),
            registry=r,
        )

        self.round = Gauge("xinlian_consensus_round", "Round of the height in progress", registry=r)
        self.peers = Gauge("xinlian_p2p_peers", "Connected peers", registry=r)
        self.consensus_rejected = Counter(
            "xinlian_consensus_rejected",
            "Consensus messages dropped (bad signature, wrong chain, ...)",
            registry=r,
        )
        self.equivocations = Counter(
            "xinlian_equivocations", "Conflicting messages seen from one validator", registry=r
        )
        self.disk_free = Gauge(
            "xinlian_disk_free_bytes", "Free bytes on the file system of the data", registry=r
        )
        self.last_commit = Gauge(
            "xinlian_last_commit_timestamp_seconds",
            "When this node last committed a block (Unix time)",
            registry=r,
        )
        self.lag = Gauge(
            "xinlian_lag_blocks", "Blocks between this node and its best peer", registry=r
        )
        self.synced_blocks = Counter(
            "xinlian_synced_blocks", "Blocks applied by catching up from peers", registry=r
        )

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return generate_latest(self.registry)
