"""Authenticated transport between nodes: mutual TLS, framing, peers, gossip.

Bytes in and out; protocol decisions belong to consensus and sync.
"""
