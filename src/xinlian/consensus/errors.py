"""Errors of the consensus package.

Invalid *messages* are never exceptions: the machine drops them and reports a
``Rejected`` effect. ``ConsensusError`` means the caller misused the machine (a bug in the
node), for example starting a height that is not above the current one.
"""


class ConsensusError(Exception):
    """The node drove the state machine in a way it does not allow."""
