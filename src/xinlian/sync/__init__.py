"""Catching up: a lagging or new node fetches certified blocks from peers and applies them."""
